// SPDX-License-Identifier: Apache-2.0

public import Support
public import Autograd
public import Tensors

/// Multi-head scaled dot-product attention with separate query/key/value projections.
///
/// Shapes: `query [B, Tq, D]`, `key`/`value [B, Tk, D]` → `[B, Tq, D]`; `heads` divides `D`.
public final class MultiHeadAttention: Module {
    public let query: Linear, key: Linear, value: Linear, output: Linear
    public let heads: Int

    public init(dimension: Int, heads: Int, bias: Bool = true, generator: inout SeededRandom) {
        precondition(dimension % heads == 0, "MultiHeadAttention: \(heads) heads do not divide \(dimension)")
        self.heads = heads
        query = Linear(dimension, dimension, bias: bias, generator: &generator)
        key = Linear(dimension, dimension, bias: bias, generator: &generator)
        value = Linear(dimension, dimension, bias: bias, generator: &generator)
        output = Linear(dimension, dimension, bias: bias, generator: &generator)
    }

    /// Self-attention.
    public override func callAsFunction(_ x: Variable) -> Variable { attend(query: x, key: x, value: x) }

    /// Attention of `query` over `key`/`value`; `causal` masks future positions, `mask` (`[Tq, Tk]`,
    /// 1 = attend) restricts further.
    public func attend(query q: Variable, key k: Variable, value v: Variable, causal: Bool = false, mask: Tensor? = nil) -> Variable {
        let (b, tq, d) = (q.shape[0], q.shape[1], q.shape[2])
        let tk = k.shape[1]
        let dh = d / heads
        func split(_ x: Variable, _ t: Int) -> Variable {
            // [B, T, D] → [B, H, T, Dh] → [B·H, T, Dh]
            x.reshaped([b, t, heads, dh]).permuted([0, 2, 1, 3]).reshaped([b * heads, t, dh])
        }
        let qh = split(query(q), tq), kh = split(key(k), tk), vh = split(value(v), tk)
        var scores = Variable.matmul(qh, kh, transposeB: true) * (1 / Float(dh).squareRoot())  // [B·H, Tq, Tk]
        var allowed = mask
        if causal {
            var tri = Tensor(shape: [tq, tk], repeating: 0)
            tri.withUnsafeMutableBufferPointer { p in
                for i in 0..<tq { for j in 0...min(i + tk - tq, tk - 1) where j >= 0 { p[i * tk + j] = 1 } }
            }
            allowed = allowed.map { $0 * tri } ?? tri
        }
        if let allowed { scores = scores.masked(by: allowed, fill: -.infinity) }
        let context = Variable.matmul(scores.softmax(), vh)  // [B·H, Tq, Dh]
        return output(context.reshaped([b, heads, tq, dh]).permuted([0, 2, 1, 3]).reshaped([b, tq, d]))
    }
}

/// Pre-norm transformer block: `x + attn(LN(x))`, then `x + MLP(LN(x))` with a GELU MLP.
public final class TransformerBlock: Module {
    public let norm1: LayerNorm, attention: MultiHeadAttention
    public let norm2: LayerNorm, fc1: Linear, fc2: Linear
    public let causal: Bool

    public init(dimension: Int, heads: Int, mlpRatio: Int = 4, causal: Bool = false, generator: inout SeededRandom) {
        norm1 = LayerNorm(dimension)
        attention = MultiHeadAttention(dimension: dimension, heads: heads, generator: &generator)
        norm2 = LayerNorm(dimension)
        fc1 = Linear(dimension, dimension * mlpRatio, generator: &generator)
        fc2 = Linear(dimension * mlpRatio, dimension, generator: &generator)
        self.causal = causal
    }

    public override func callAsFunction(_ x: Variable) -> Variable {
        let n = norm1(x)
        let h = x + attention.attend(query: n, key: n, value: n, causal: causal)
        return h + fc2(fc1(norm2(h)).gelu())
    }
}

/// ResNet basic block: conv3×3-BN-ReLU-conv3×3-BN plus an identity or 1×1-conv-BN shortcut, then ReLU.
public final class ResidualBlock: Module {
    public let conv1: Conv2d, bn1: BatchNorm, conv2: Conv2d, bn2: BatchNorm
    public let shortcut: Sequential?

    public init(_ inChannels: Int, _ outChannels: Int, stride: Int = 1, generator: inout SeededRandom) {
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, stride: stride, padding: 1, bias: false, generator: &generator)
        bn1 = BatchNorm(outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, bias: false, generator: &generator)
        bn2 = BatchNorm(outChannels)
        shortcut = (stride != 1 || inChannels != outChannels)
            ? Sequential([Conv2d(inChannels, outChannels, kernelSize: 1, stride: stride, bias: false, generator: &generator), BatchNorm(outChannels)])
            : nil
    }

    public override func callAsFunction(_ x: Variable) -> Variable {
        let y = bn2(conv2(bn1(conv1(x)).relu()))
        return (y + (shortcut.map { $0(x) } ?? x)).relu()
    }
}

/// CIFAR-style ResNet builders (He et al. 2016, §4.2): depth `6n + 2`.
public enum ResNet {
    /// Stem conv3×3-BN-ReLU, three stages of `blocksPerStage` basic blocks with `widths` channels
    /// (strides 1, 2, 2), global average pooling and a linear classifier. `blocksPerStage: 1` is ResNet-8.
    public static func make(inChannels: Int, classes: Int, widths: [Int] = [16, 32, 64], blocksPerStage: Int = 1,
                            generator: inout SeededRandom) -> Sequential {
        var layers: [Module] = [
            Conv2d(inChannels, widths[0], kernelSize: 3, padding: 1, bias: false, generator: &generator),
            BatchNorm(widths[0]), Activation.relu,
        ]
        var channels = widths[0]
        for (stage, w) in widths.enumerated() {
            for block in 0..<blocksPerStage {
                layers.append(ResidualBlock(channels, w, stride: (stage > 0 && block == 0) ? 2 : 1, generator: &generator))
                channels = w
            }
        }
        layers.append(Activation.globalAvgPool)
        layers.append(Linear(channels, classes, generator: &generator))
        return Sequential(layers)
    }
}
