// SPDX-License-Identifier: Apache-2.0

public import Support
public import Autograd
public import Tensors

/// A layer's trainable weight of `shape` and, when `bias` gives its length, its bias, both drawn
/// as PyTorch initialises linear and convolution layers: uniform in ±1/√`fanIn`, weight first.
func fanInParameters(_ shape: [Int], fanIn: Int, bias: Int?, generator: inout SeededRandom) -> (Variable, Variable?) {
    let weight = Variable(Initializer.fanInUniform(shape, fanIn: fanIn, generator: &generator), requiresGradient: true)
    let b = bias.map { Variable(Initializer.fanInUniform([$0], fanIn: fanIn, generator: &generator), requiresGradient: true) }
    return (weight, b)
}

/// `y = x·Wᵀ + b` over the last dimension: `x [..., inFeatures]` → `[..., outFeatures]`.
/// `weight [outFeatures, inFeatures]` as in PyTorch.
public final class Linear: Module {
    public let weight: Variable
    public let bias: Variable?

    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, generator: inout SeededRandom) {
        (weight, self.bias) = fanInParameters([outFeatures, inFeatures], fanIn: inFeatures, bias: bias ? outFeatures : nil, generator: &generator)
    }

    public override func callAsFunction(_ x: Variable) -> Variable {
        let y = Variable.matmul(x, weight, transposeB: true)
        return bias.map { y + $0 } ?? y
    }
}

/// 2-D convolution over `[N, C, H, W]`; `weight [out, in/groups, k, k]`, `bias [out]`.
public final class Conv2d: Module {
    public let weight: Variable
    public let bias: Variable?
    public let options: Conv2DOptions

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, generator: inout SeededRandom) {
        (weight, self.bias) = fanInParameters([outChannels, inChannels / groups, kernelSize, kernelSize],
                                              fanIn: inChannels / groups * kernelSize * kernelSize, bias: bias ? outChannels : nil, generator: &generator)
        options = Conv2DOptions(stride: stride, padding: padding, dilation: dilation, groups: groups)
    }

    public override func callAsFunction(_ x: Variable) -> Variable {
        Variable.conv2d(x, weight, bias: bias, options)
    }
}

/// Transposed 2-D convolution; `weight [in, out/groups, k, k]` as in PyTorch.
public final class ConvTranspose2d: Module {
    public let weight: Variable
    public let bias: Variable?
    public let options: Conv2DOptions
    public let outputPadding: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, groups: Int = 1, bias: Bool = true, generator: inout SeededRandom) {
        (weight, self.bias) = fanInParameters([inChannels, outChannels / groups, kernelSize, kernelSize],
                                              fanIn: outChannels / groups * kernelSize * kernelSize, bias: bias ? outChannels : nil, generator: &generator)
        options = Conv2DOptions(stride: stride, padding: padding, groups: groups)
        self.outputPadding = outputPadding
    }

    public override func callAsFunction(_ x: Variable) -> Variable {
        Variable.convTranspose2d(x, weight, bias: bias, options, outputPadding: outputPadding)
    }
}

/// Layer normalization over the last dimension with learnable `weight` (γ) and `bias` (β).
public final class LayerNorm: Module {
    public let weight: Variable
    public let bias: Variable
    public let epsilon: Float

    public init(_ features: Int, epsilon: Float = 1e-5) {
        weight = Variable(Tensor(shape: [features], repeating: 1), requiresGradient: true)
        bias = Variable(Tensor(shape: [features], repeating: 0), requiresGradient: true)
        self.epsilon = epsilon
    }

    public override func callAsFunction(_ x: Variable) -> Variable {
        Variable.layerNorm(x, gamma: weight, beta: bias, epsilon: epsilon)
    }
}

/// Batch normalization over channel dimension 1 of `[N, C, ...]` (BatchNorm1d/2d): batch
/// statistics in training (updating running averages with `momentum`), running statistics in eval.
public final class BatchNorm: Module {
    public let weight: Variable
    public let bias: Variable
    public let runningMean: Buffer
    public let runningVar: Buffer
    public let epsilon: Float
    public let momentum: Float

    public init(_ channels: Int, epsilon: Float = 1e-5, momentum: Float = 0.1) {
        weight = Variable(Tensor(shape: [channels], repeating: 1), requiresGradient: true)
        bias = Variable(Tensor(shape: [channels], repeating: 0), requiresGradient: true)
        runningMean = Buffer(Tensor(shape: [channels], repeating: 0))
        runningVar = Buffer(Tensor(shape: [channels], repeating: 1))
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public override func callAsFunction(_ x: Variable) -> Variable {
        if !isTraining {
            return Variable.batchNormInference(x, gamma: weight, beta: bias, runningMean: runningMean.value,
                                               runningVariance: runningVar.value, epsilon: epsilon)
        }
        let (y, mean, variance) = Variable.batchNorm(x, gamma: weight, beta: bias, epsilon: epsilon)
        // Running variance uses the unbiased estimate, as PyTorch does.
        let n = Float(x.value.count / x.shape[1])
        let unbiased = variance * (n / Swift.max(n - 1, 1))
        runningMean.value = runningMean.value * (1 - momentum) + mean * momentum
        runningVar.value = runningVar.value * (1 - momentum) + unbiased * momentum
        return y
    }
}

/// Lookup table: `[...]` integer ids → `[..., dimension]`.
public final class Embedding: Module {
    public let weight: Variable

    public init(_ count: Int, _ dimension: Int, generator: inout SeededRandom) {
        weight = Variable(Tensor.normal([count, dimension], generator: &generator), requiresGradient: true)
    }

    /// Rows for `ids`, shaped `shape + [dimension]`.
    public func callAsFunction(_ ids: [Int32], shape: [Int]) -> Variable {
        weight.indexSelected(alongAxis: 0, ids).reshaped(shape + [weight.shape[1]])
    }
}

/// Inverted dropout with a seeded generator (identity in eval mode).
public final class Dropout: Module {
    public let probability: Float
    public var generator: SeededRandom

    public init(_ probability: Float, seed: UInt64 = 0) {
        self.probability = probability
        generator = SeededRandom(seed: seed)
    }

    public override func callAsFunction(_ x: Variable) -> Variable {
        isTraining ? x.dropout(probability, generator: &generator) : x
    }
}

/// Pointwise activations as modules.
public enum Activation {
    public static var relu: Lambda { Lambda { $0.relu() } }
    public static var gelu: Lambda { Lambda { $0.gelu() } }
    public static var silu: Lambda { Lambda { $0.silu() } }
    public static var tanh: Lambda { Lambda { $0.tanh() } }
    public static var sigmoid: Lambda { Lambda { $0.sigmoid() } }
    /// `[N, ...]` → `[N, features]`.
    public static var flatten: Lambda { Lambda { $0.flattened() } }
    public static func maxPool(_ k: Int, stride: Int? = nil, padding: Int = 0) -> Lambda {
        Lambda { $0.maxPooled2d(kernel: k, stride: stride, padding: padding) }
    }
    public static func avgPool(_ k: Int, stride: Int? = nil) -> Lambda { Lambda { $0.avgPooled2d(kernel: k, stride: stride) } }
    public static var globalAvgPool: Lambda { Lambda { $0.globalAvgPooled() } }
}
