// SPDX-License-Identifier: Apache-2.0

public import PIMSimulator

extension CrossbarWorkload {
    /// An epitome layer on EPIM's modified datapath.
    ///
    /// The crossbars store the epitome unrolled, `Ci_E·h_E·w_E` rows by `Co_E` columns (so the area
    /// shrinks with the epitome, whatever the datapath). How it is run:
    ///
    /// - `featureMapReuse: true` (EPIM): the input-feature address table routes every input
    ///   channel `c` to epitome row block `φ(c)` and the reuse table pre-sums channels that share a
    ///   block (`Ci − covered` additions per input pixel, an adder tree of depth `⌈log2 fan-in⌉`, and
    ///   that many extra input bits); each distinct spatial window of the epitome is one crossbar
    ///   activation of `covered·kh·kw` rows and `Co_E` columns; the output address table copies each
    ///   computed channel to every output channel that wraps onto it.
    /// - `featureMapReuse: false` (a datapath that can only route, not reuse): every output copy
    ///   and every input patch is its own activation of `β·kh·kw` rows, and the patches' partial
    ///   sums are added digitally.
    public static func epitome(_ layer: LayerShape, _ shape: EpitomeShape, weightBits: Int, featureMapReuse: Bool = true) -> CrossbarWorkload {
        precondition(layer.groups == 1, "epitome mapping: grouped convolution \(layer.name)")
        let map = EpitomeIndexMap(epitome: shape, outChannels: layer.outChannels, inChannels: layer.inChannels,
                                  kernelHeight: layer.kernelHeight, kernelWidth: layer.kernelWidth)
        let k2 = layer.kernelHeight * layer.kernelWidth
        let rows = shape.inChannels * shape.height * shape.width
        let positions = layer.outputPositions
        if featureMapReuse {
            let passes = map.distinctWindows.count
            let fanIn = map.maxInputFanIn
            let computed = Set(map.outputGather).count
            let covered = map.coveredInputChannels
            return CrossbarWorkload(
                name: layer.name, storedRows: rows, storedColumns: shape.outChannels, weightBits: weightBits,
                outputPositions: positions, passes: passes, activeRowsPerPass: covered * k2, activeColumnsPerPass: shape.outChannels,
                extraInputBits: ceilLog2(fanIn), preSumDepth: ceilLog2(fanIn),
                digitalAdditions: (layer.inChannels - covered) * layer.inputHeight * layer.inputWidth,
                outputCopies: (layer.outChannels - computed) * positions,
                macs: positions * passes * covered * k2 * shape.outChannels)
        }
        let groups = (layer.inChannels + shape.inputPatch - 1) / shape.inputPatch
        let passes = map.outputCopies * groups
        return CrossbarWorkload(
            name: layer.name, storedRows: rows, storedColumns: shape.outChannels, weightBits: weightBits,
            outputPositions: positions, passes: passes, activeRowsPerPass: shape.inputPatch * k2,
            activeColumnsPerPass: shape.outChannels,
            digitalAdditions: positions * map.outputCopies * (groups - 1) * shape.outChannels,
            macs: layer.macs)
    }
}

/// A per-layer choice of operator for a network: a plain convolution (`nil`) or an epitome.
public struct NetworkDesign: Sendable, Equatable {
    public var network: Network
    /// One entry per layer of `network`; `nil` keeps the layer plain. Linear layers are always plain.
    public var epitomes: [EpitomeShape?]

    public init(network: Network, epitomes: [EpitomeShape?]) {
        precondition(epitomes.count == network.layers.count, "NetworkDesign: \(epitomes.count) choices for \(network.layers.count) layers")
        self.network = network
        self.epitomes = epitomes
    }

    /// Whether a layer may become an epitome: convolutions other than the first (the stem sees
    /// the raw image with 3 input channels and holds 0.04% of ResNet-50's weights).
    public static func isEligible(_ layer: LayerShape, index: Int) -> Bool {
        layer.kind == .conv && index > 0 && layer.groups == 1
    }

    /// Every eligible convolution reduced by `outFactor` output and `inFactor` input channels.
    public static func uniform(_ network: Network, outFactor: Int, inFactor: Int) -> NetworkDesign {
        NetworkDesign(network: network, epitomes: network.layers.enumerated().map { i, l in
            guard isEligible(l, index: i), outFactor * inFactor > 1 else { return nil }
            return .reduced(outChannels: l.outChannels, inChannels: l.inChannels, kernel: l.kernelHeight,
                            outFactor: outFactor, inFactor: inFactor)
        })
    }

    /// The crossbar workloads at `weightBits`.
    public func workloads(weightBits: Int, featureMapReuse: Bool = true) -> [CrossbarWorkload] {
        zip(network.layers, epitomes).map { l, e in
            e.map { CrossbarWorkload.epitome(l, $0, weightBits: weightBits, featureMapReuse: featureMapReuse) }
                ?? .plain(l, weightBits: weightBits)
        }
    }

    /// Weights stored.
    public var storedParameters: Int {
        zip(network.layers, epitomes).map { l, e in e?.parameterCount ?? l.parameterCount }.reduce(0, +)
    }
}

extension Network {
    /// Uniform structured (channel) pruning: every layer keeps `⌈keep · channels⌉` of its input and
    /// output channels, except the network's input channels and the final layer's outputs
    /// (classes). Uniform widths keep residual additions consistent.
    public func channelPruned(keep: Double) -> Network {
        precondition(keep > 0 && keep <= 1, "channelPruned: keep \(keep)")
        func kept(_ c: Int) -> Int { max(1, Int((Double(c) * keep).rounded(.up))) }
        var out = self
        out.name = "\(name)-pruned"
        for i in out.layers.indices {
            let l = layers[i]
            if i > 0 { out.layers[i].inChannels = kept(l.inChannels) }
            if i < layers.count - 1 { out.layers[i].outChannels = kept(l.outChannels) }
        }
        return out
    }
}
