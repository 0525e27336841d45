// SPDX-License-Identifier: Apache-2.0

public import Support
public import Autograd
public import NeuralNetworks
public import PIMSimulator
public import Tensors

/// A small CNN for 28 × 28 grey images whose convolutions can be epitomes, and its PIM mapping:
/// three 3 × 3 convolutions (padding 1) with batch norm and ReLU, max-pooling after the first two,
/// global average pooling, and a linear classifier.
///
/// `[N, 1, 28, 28]` → conv1 → `[N, w1, 14, 14]` → conv2 → `[N, w2, 7, 7]` → conv3 → `[N, w3]` → fc → `[N, classes]`.
/// The classifier and, when a bit-width is set, every convolution are fake-quantized; batch-norm
/// parameters stay in the digital periphery and are not mapped to crossbars.
///
/// ```swift
/// var g = SeededRandom(seed: 1)
/// let net = EpitomeCNN(widths: [32, 64, 128], epitomes: [nil, nil, nil], weightBits: 3, generator: &g)
/// let logits = net(Variable(images))   // [N, 10]
/// ```
public final class EpitomeCNN: Module {
    public let conv1: EpitomeConv2d, conv2: EpitomeConv2d, conv3: EpitomeConv2d
    public let norm1: BatchNorm, norm2: BatchNorm, norm3: BatchNorm
    public let fc: QuantizedLinear
    public let widths: [Int]
    public let classes: Int
    public let weightBits: Int?

    /// - Parameters:
    ///   - widths: output channels of the three convolutions.
    ///   - epitomes: per convolution, an epitome or `nil` for a plain convolution.
    ///   - weightBits: fake-quantization bit-width of all weights (`nil` = full precision).
    public init(widths: [Int] = [32, 64, 128], epitomes: [EpitomeShape?] = [nil, nil, nil], weightBits: Int?,
                classes: Int = 10, generator: inout SeededRandom) {
        precondition(widths.count == 3 && epitomes.count == 3, "EpitomeCNN: 3 widths and 3 epitome choices")
        let inputs = [1, widths[0], widths[1]]
        func conv(_ i: Int) -> EpitomeConv2d {
            EpitomeConv2d(inputs[i], widths[i], kernelSize: 3, padding: 1,
                          epitome: epitomes[i] ?? .identity(outChannels: widths[i], inChannels: inputs[i], kernel: 3),
                          weightBits: weightBits, bias: false, generator: &generator)
        }
        conv1 = conv(0); conv2 = conv(1); conv3 = conv(2)
        norm1 = BatchNorm(widths[0]); norm2 = BatchNorm(widths[1]); norm3 = BatchNorm(widths[2])
        fc = QuantizedLinear(widths[2], classes, weightBits: weightBits, generator: &generator)
        self.widths = widths
        self.classes = classes
        self.weightBits = weightBits
    }

    public override func callAsFunction(_ x: Variable) -> Variable {
        var h = norm1(conv1(x)).relu().maxPooled2d(kernel: 2)   // [N, w1, 14, 14]
        h = norm2(conv2(h)).relu().maxPooled2d(kernel: 2)       // [N, w2, 7, 7]
        h = norm3(conv3(h)).relu().globalAvgPooled()            // [N, w3]
        return fc(h)                                            // [N, classes]
    }

    /// The layer shapes the cost model maps.
    public var network: Network {
        Network(name: "epitome-cnn", layers: [
            LayerShape(name: "conv1", inChannels: 1, outChannels: widths[0], kernel: 3, padding: 1, inputHeight: 28, inputWidth: 28),
            LayerShape(name: "conv2", inChannels: widths[0], outChannels: widths[1], kernel: 3, padding: 1, inputHeight: 14, inputWidth: 14),
            LayerShape(name: "conv3", inChannels: widths[1], outChannels: widths[2], kernel: 3, padding: 1, inputHeight: 7, inputWidth: 7),
            .linear(name: "fc", inFeatures: widths[2], outFeatures: classes),
        ])
    }

    /// This network's operator choices (identity epitomes count as plain convolutions).
    public var design: NetworkDesign {
        let convs = [conv1, conv2, conv3]
        return NetworkDesign(network: network, epitomes: convs.map { c in
            let e = c.map.epitome
            return e == .identity(outChannels: c.map.outChannels, inChannels: c.map.inChannels, kernel: c.map.kernelHeight) ? nil : e
        } + [nil])
    }

    /// An epitome network started from this trained plain network: every layer is copied, and
    /// each convolution given an epitome gets the least-squares epitome of its trained weight
    /// (``EpitomeConv2d/project(fromWeight:)``). To be fine-tuned.
    public func projected(epitomes: [EpitomeShape?], weightBits: Int?, generator: inout SeededRandom) -> EpitomeCNN {
        let out = EpitomeCNN(widths: widths, epitomes: epitomes, weightBits: weightBits, classes: classes, generator: &generator)
        for (old, new) in zip([conv1, conv2, conv3], [out.conv1, out.conv2, out.conv3]) {
            new.project(fromWeight: old.weight.value)
        }
        for (old, new) in [(norm1, out.norm1), (norm2, out.norm2), (norm3, out.norm3)] {
            new.weight.value = old.weight.value; new.bias.value = old.bias.value
            new.runningMean.value = old.runningMean.value; new.runningVar.value = old.runningVar.value
        }
        out.fc.weight.value = fc.weight.value
        out.fc.bias!.value = fc.bias!.value
        return out
    }

    /// Structured L1-norm filter pruning (Li et al. 2017) of a trained plain network: each
    /// convolution keeps its `⌈keep · width⌉` output filters with the largest L1 norms (the next
    /// layer keeps the matching input channels; batch-norm statistics follow their channels). The
    /// result is a plain network quantized at `weightBits`, to be fine-tuned.
    public func pruned(keep: Double, weightBits: Int?, generator: inout SeededRandom) -> EpitomeCNN {
        let convs = [conv1, conv2, conv3]
        precondition(convs.allSatisfy { $0.map.epitome == .identity(outChannels: $0.map.outChannels, inChannels: $0.map.inChannels, kernel: 3) },
                     "pruned: only plain networks are pruned")
        let kept = convs.map { c -> [Int32] in
            let w = c.epitome.value  // [out, in, 3, 3]
            let inner = w.count / w.shape[0]
            let s = w.scalars
            let norms = (0..<w.shape[0]).map { o in s[(o * inner)..<((o + 1) * inner)].map(Swift.abs).reduce(0, +) }
            let n = max(1, Int((Double(w.shape[0]) * keep).rounded(.up)))
            return (0..<w.shape[0]).sorted { (norms[$0], -$0) > (norms[$1], -$1) }.prefix(n).sorted().map { Int32($0) }
        }
        let out = EpitomeCNN(widths: kept.map(\.count), weightBits: weightBits, classes: classes, generator: &generator)
        let newConvs = [out.conv1, out.conv2, out.conv3]
        let norms = [(norm1, out.norm1), (norm2, out.norm2), (norm3, out.norm3)]
        for i in 0..<3 {
            var w = convs[i].epitome.value.indexSelected(alongAxis: 0, kept[i])
            if i > 0 { w = w.indexSelected(alongAxis: 1, kept[i - 1]) }
            newConvs[i].epitome.value = w
            let (old, new) = norms[i]
            new.weight.value = old.weight.value.indexSelected(alongAxis: 0, kept[i])
            new.bias.value = old.bias.value.indexSelected(alongAxis: 0, kept[i])
            new.runningMean.value = old.runningMean.value.indexSelected(alongAxis: 0, kept[i])
            new.runningVar.value = old.runningVar.value.indexSelected(alongAxis: 0, kept[i])
        }
        out.fc.weight.value = fc.weight.value.indexSelected(alongAxis: 1, kept[2])
        out.fc.bias!.value = fc.bias!.value
        return out
    }
}
