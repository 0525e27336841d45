// SPDX-License-Identifier: Apache-2.0

public import Support
public import Autograd
public import NeuralNetworks
public import Tensors

extension Variable {
    /// The convolution weight sampled from an epitome: `E [Co_E, Ci_E, h_E, w_E]` →
    /// `W [Co, Ci, kh, kw]` by the static indices of `map`.
    ///
    /// Written with existing primitives: a flat index-select (gather) whose gradient rule is an
    /// index-add (scatter-add), so `∂L/∂E[i] = Σ_{positions p reading i} ∂L/∂W[p]`.
    public func epitomeWeight(_ map: EpitomeIndexMap, indices: [Int32]? = nil) -> Variable {
        precondition(shape == [map.epitome.outChannels, map.epitome.inChannels, map.epitome.height, map.epitome.width],
                     "epitomeWeight: epitome \(shape) vs map \(map.epitome)")
        return reshaped([value.count]).indexSelected(alongAxis: 0, indices ?? map.flatIndices)
            .reshaped([map.outChannels, map.inChannels, map.kernelHeight, map.kernelWidth])
    }

    /// Epitome convolution by expanding the weight, then the engine's `conv2d`:
    /// `x [N, Ci, H, W]`, `epitome [Co_E, Ci_E, h_E, w_E]` → `[N, Co, OH, OW]`.
    public static func epitomeConv2d(_ x: Variable, epitome: Variable, map: EpitomeIndexMap, bias: Variable? = nil,
                                     _ options: Conv2DOptions = .init()) -> Variable {
        conv2d(x, epitome.epitomeWeight(map), bias: bias, options)
    }

    /// The same result by EPIM's feature-map reuse datapath: pre-sum the input channels that
    /// share an epitome channel (`S(x)`, an index-add over channels), run one convolution per
    /// distinct spatial window of the epitome with `Co_E` outputs, then copy each computed channel
    /// to every output channel that wraps onto it (an index-select over channels). Exact (see
    /// ``EpitomeIndexMap``); costs `Co_E · windows / Co` of the MACs.
    public static func epitomeConv2dReusing(_ x: Variable, epitome: Variable, map: EpitomeIndexMap, bias: Variable? = nil,
                                            _ options: Conv2DOptions = .init()) -> Variable {
        precondition(x.shape[1] == map.inChannels, "epitomeConv2dReusing: input \(x.shape) for \(map.inChannels) channels")
        let e = map.epitome
        let identityInputs = map.inChannels == e.inChannels && (0..<map.inChannels).allSatisfy { map.inputChannel($0) == $0 }
        let summed = identityInputs ? x : x.indexAdded(alongAxis: 1, map.inputChannelMap, size: e.inChannels)  // [N, Ci_E, H, W]
        let windows = map.distinctWindows
        let perWindow = windows.map { u -> Variable in
            let (dy, dx) = map.windowOffset(u)
            var w = epitome
            if e.height > map.kernelHeight { w = w.sliced(alongAxis: 2, dy..<(dy + map.kernelHeight)) }
            if e.width > map.kernelWidth { w = w.sliced(alongAxis: 3, dx..<(dx + map.kernelWidth)) }
            return conv2d(summed, w, options)  // [N, Co_E, OH, OW]
        }
        let computed = perWindow.count == 1 ? perWindow[0] : Variable.concatenated(perWindow, alongAxis: 1)
        let identityOutputs = map.outChannels == e.outChannels && windows.count == 1
        var y = identityOutputs ? computed : computed.indexSelected(alongAxis: 1, map.outputGather)  // [N, Co, OH, OW]
        if let bias { y = y + bias.reshaped([1, map.outChannels, 1, 1]) }
        return y
    }
}

/// A convolution whose weight is sampled from a trainable epitome, with optional epitome-aware
/// quantization (fake-quantized epitome, per-epitome-output-channel scales, straight-through
/// training).
///
/// An identity epitome (``EpitomeShape/identity(outChannels:inChannels:kernel:)``) makes this a
/// plain (optionally quantized) convolution, which is how the baselines are built.
///
/// ```swift
/// var g = SeededRandom(seed: 1)
/// let conv = EpitomeConv2d(32, 64, kernelSize: 3, padding: 1,
///                          epitome: .reduced(outChannels: 64, inChannels: 32, kernel: 3, outFactor: 2, inFactor: 2),
///                          weightBits: 3, generator: &g)
/// let y = conv(Variable(x))     // x [N, 32, H, W] → [N, 64, H, W]
/// ```
public final class EpitomeConv2d: Module {
    /// The stored tensor `[Co_E, Ci_E, h_E, w_E]`.
    public let epitome: Variable
    public let bias: Variable?
    public let options: Conv2DOptions
    public let map: EpitomeIndexMap
    /// Fake quantization of the epitome (`nil` = full precision).
    public let quantizer: WeightQuantizer?
    /// Which forward pass to use; both give the same values and gradients.
    public var datapath: Datapath = .reuse
    private let indices: [Int32]
    private let reuse: [Int]

    /// The forward-pass formulation.
    public enum Datapath: Sendable {
        /// Expand `W` by gather, then a full convolution.
        case gather
        /// Pre-sum inputs, convolve with the epitome, copy outputs.
        case reuse
    }

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                epitome shape: EpitomeShape, weightBits: Int? = nil, bias: Bool = true, generator: inout SeededRandom) {
        let m = EpitomeIndexMap(epitome: shape, outChannels: outChannels, inChannels: inChannels,
                                kernelHeight: kernelSize, kernelWidth: kernelSize)
        map = m
        // The expanded weight has the fan-in of the convolution it replaces.
        let fanIn = inChannels * kernelSize * kernelSize
        epitome = Variable(Initializer.fanInUniform([shape.outChannels, shape.inChannels, shape.height, shape.width],
                                                    fanIn: fanIn, generator: &generator), requiresGradient: true)
        self.bias = bias ? Variable(Initializer.fanInUniform([outChannels], fanIn: fanIn, generator: &generator), requiresGradient: true) : nil
        options = Conv2DOptions(stride: stride, padding: padding)
        quantizer = weightBits.map(WeightQuantizer.init(bits:))
        indices = m.flatIndices
        reuse = m.reuseCounts
    }

    /// Sets the epitome to the least-squares fit of a plain weight `w [Co, Ci, k, k]`:
    /// `argmin_E ‖w − expand(E)‖²`, i.e. each epitome element becomes the mean of the weight
    /// elements that read it (a scatter-add divided by the reuse counts). Unused elements keep
    /// their value. Used to start an epitome network from a trained plain one.
    public func project(fromWeight w: Tensor) {
        precondition(w.shape == [map.outChannels, map.inChannels, map.kernelHeight, map.kernelWidth],
                     "project: weight \(w.shape) for map \(map)")
        let sums = w.reshaped([w.count]).indexAdded(alongAxis: 0, indices, size: map.epitome.parameterCount)
        var e = epitome.value.contiguousCopy()
        let s = sums.scalars
        e.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count where reuse[i] > 0 { p[i] = s[i] / Float(reuse[i]) }
        }
        epitome.value = e
    }

    /// The epitome as stored on crossbars (quantized when a quantizer is set).
    public var storedEpitome: Variable { quantizer.map { $0(epitome, reuse: reuse) } ?? epitome }

    /// The expanded weight `[Co, Ci, k, k]`.
    public var weight: Variable { storedEpitome.epitomeWeight(map, indices: indices) }

    public override func callAsFunction(_ x: Variable) -> Variable {
        switch datapath {
        case .gather: Variable.conv2d(x, weight, bias: bias, options)
        case .reuse: Variable.epitomeConv2dReusing(x, epitome: storedEpitome, map: map, bias: bias, options)
        }
    }
}

/// A fully connected layer with per-output-channel fake-quantized weights (straight-through).
public final class QuantizedLinear: Module {
    public let weight: Variable
    public let bias: Variable?
    public let quantizer: WeightQuantizer?

    public init(_ inFeatures: Int, _ outFeatures: Int, weightBits: Int?, generator: inout SeededRandom) {
        weight = Variable(Initializer.fanInUniform([outFeatures, inFeatures], fanIn: inFeatures, generator: &generator), requiresGradient: true)
        bias = Variable(Initializer.fanInUniform([outFeatures], fanIn: inFeatures, generator: &generator), requiresGradient: true)
        quantizer = weightBits.map(WeightQuantizer.init(bits:))
    }

    public override func callAsFunction(_ x: Variable) -> Variable {
        let w = quantizer.map { $0(weight) } ?? weight
        let y = Variable.matmul(x, w, transposeB: true)
        return bias.map { y + $0 } ?? y
    }
}
