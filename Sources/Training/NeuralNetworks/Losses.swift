// SPDX-License-Identifier: Apache-2.0

public import Autograd
public import Tensors

/// How a per-sample loss is reduced.
public enum Reduction: Sendable {
    case mean, sum
    /// Per-sample losses `[N]`.
    case none
}

/// Loss functions. Each is a composition of differentiable primitives, so each is checked by
/// finite differences and supports double backward.
public enum Loss {
    static func reduce(_ x: Variable, _ r: Reduction) -> Variable {
        switch r {
        case .mean: x.mean()
        case .sum: x.sum()
        case .none: x
        }
    }

    /// Cross-entropy of `logits [N, C]` against class indices, with optional label smoothing `ε`
    /// (target `(1 − ε)·onehot + ε/C`, as PyTorch).
    public static func crossEntropy(_ logits: Variable, labels: [Int32], labelSmoothing: Float = 0, reduction: Reduction = .mean) -> Variable {
        precondition(logits.rank == 2 && logits.shape[0] == labels.count, "crossEntropy: logits \(logits.shape), \(labels.count) labels")
        let logp = logits.logSoftmax()
        var nll = -logp.gathered(alongAxis: 1, labels, k: 1).reshaped([labels.count])
        if labelSmoothing > 0 {
            let c = Float(logits.shape[1])
            let smooth = -logp.sum(alongAxes: [1]) / c
            nll = nll * (1 - labelSmoothing) + smooth * labelSmoothing
        }
        return reduce(nll, reduction)
    }

    /// Cross-entropy against soft targets `[N, C]` (rows sum to 1): `−Σ t · log softmax(z)`.
    public static func crossEntropy(_ logits: Variable, softTargets: Tensor, reduction: Reduction = .mean) -> Variable {
        precondition(logits.shape == softTargets.shape, "crossEntropy: logits \(logits.shape), targets \(softTargets.shape)")
        return reduce(-(logits.logSoftmax().multiplied(byConstant: softTargets)).sum(alongAxes: [1]), reduction)
    }

    /// Binary cross-entropy on logits (numerically stable: `softplus(z) − t·z`), with optional
    /// per-element weights.
    public static func binaryCrossEntropy(logits: Variable, targets: Tensor, weights: Tensor? = nil, reduction: Reduction = .mean) -> Variable {
        var l = logits.softplus() - logits.multiplied(byConstant: targets)
        if let weights { l = l.multiplied(byConstant: weights) }
        return reduce(l, reduction)
    }

    /// Mean squared error.
    public static func meanSquaredError(_ prediction: Variable, _ target: Variable, reduction: Reduction = .mean) -> Variable {
        reduce((prediction - target).square(), reduction)
    }

    /// Smooth L1 (Huber with threshold `beta`): `½d²/β` for `|d| < β`, else `|d| − ½β`.
    public static func smoothL1(_ prediction: Variable, _ target: Variable, beta: Float = 1, reduction: Reduction = .mean) -> Variable {
        let d = prediction - target
        let small = d.value.map(.abs).affine(scale: -1, shift: beta).map(.step)  // 1 where |d| < β
        let quadratic = d.square().multiplied(byConstant: small) * (0.5 / beta)
        let linear = (d.abs() - 0.5 * beta).multiplied(byConstant: 1 - small)
        return reduce(quadratic + linear, reduction)
    }

    /// InfoNCE: row `i` of `queries [N, D]` should match row `i` of `keys [N, D]` among all keys,
    /// with cosine similarity divided by `temperature`.
    public static func infoNCE(queries: Variable, keys: Variable, temperature: Float = 0.07, reduction: Reduction = .mean) -> Variable {
        func normalized(_ x: Variable) -> Variable {
            x / (x.square().sum(alongAxes: [1], keepingDimensions: true) + 1e-12).sqrt()
        }
        let logits = Variable.matmul(normalized(queries), normalized(keys), transposeB: true) / temperature
        return crossEntropy(logits, labels: (0..<queries.shape[0]).map { Int32($0) }, reduction: reduction)
    }
}

/// Classification accuracy of `logits [N, C]` against labels.
public func accuracy(_ logits: Tensor, labels: [Int32]) -> Float {
    let predicted = logits.argmaxLastAxis()
    return Float(zip(predicted, labels).filter { $0 == Int($1) }.count) / Float(Swift.max(labels.count, 1))
}
