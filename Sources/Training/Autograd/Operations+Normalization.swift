// SPDX-License-Identifier: Apache-2.0

public import Support
public import Tensors

extension Variable {
    /// Softmax over the last axis.
    public func softmax() -> Variable {
        let y = value.softmaxLastAxis()
        return .record(y, "softmax", inputs: [self]) { g in
            // gx = y ⊙ (g − Σ g ⊙ y)
            let yv = GradientMode.isEnabled ? self.softmax() : Variable(y)
            let s = (g * yv).sum(alongAxes: [-1], keepingDimensions: true)
            return [yv * (g - s)]
        }
    }

    /// Log-softmax over the last axis.
    public func logSoftmax() -> Variable {
        let y = value.logSoftmaxLastAxis()
        return .record(y, "logSoftmax", inputs: [self]) { g in
            // gx = g − softmax · Σ g
            let p = GradientMode.isEnabled ? self.softmax() : Variable(y.map(.exp))
            return [g - p * g.sum(alongAxes: [-1], keepingDimensions: true)]
        }
    }

    /// Layer normalization over the last axis with optional affine `gamma`, `beta` (`[features]`).
    ///
    /// The first backward uses a fused kernel; when the backward pass records (double backward)
    /// the same gradient is built from differentiable operations instead.
    public static func layerNorm(_ x: Variable, gamma: Variable?, beta: Variable?, epsilon: Float = 1e-5) -> Variable {
        let (y, mean, rstd) = Tensor.layerNorm(x.value, gamma: gamma?.value, beta: beta?.value, epsilon: epsilon)
        let inputs = [x] + (gamma.map { [$0] } ?? []) + (beta.map { [$0] } ?? [])
        return record(y, "layerNorm", inputs: inputs) { g in
            if GradientMode.isEnabled {
                // Differentiable composition: x̂ = (x − μ)·rstd, y = x̂·γ + β.
                let mu = x.mean(alongAxes: [-1], keepingDimensions: true)
                let xc = x - mu
                let rs = ((xc.square().mean(alongAxes: [-1], keepingDimensions: true)) + epsilon).power(-0.5)
                let xh = xc * rs
                let gh = gamma.map { g * $0 } ?? g
                let gx = rs * (gh - gh.mean(alongAxes: [-1], keepingDimensions: true)
                               - xh * (gh * xh).mean(alongAxes: [-1], keepingDimensions: true))
                let lead = Array(0..<(x.rank - 1))
                var out: [Variable?] = [gx]
                if gamma != nil { out.append((g * xh).sum(alongAxes: lead)) }
                if beta != nil { out.append(g.sum(alongAxes: lead)) }
                return out
            }
            let r = Tensor.layerNormBackward(g.value, x.value, mean: mean, rstd: rstd, gamma: gamma?.value)
            var out: [Variable?] = [Variable(r.gx)]
            if gamma != nil { out.append(Variable(r.gGamma)) }
            if beta != nil { out.append(Variable(r.gBeta)) }
            return out
        }
    }

    /// Training-mode batch normalization of `x [N, C, ...]` with batch statistics; returns the
    /// output and the batch mean and biased variance `[C]` (for running averages).
    public static func batchNorm(_ x: Variable, gamma: Variable, beta: Variable, epsilon: Float = 1e-5)
        -> (output: Variable, mean: Tensor, variance: Tensor)
    {
        let (mean, variance) = Tensor.channelMoments(x.value)
        let rstd = (variance + epsilon).map(.sqrt).map(.reciprocal)
        let scale = rstd * gamma.value
        let y = Tensor.channelAffine(x.value, mean: mean, scale: scale, shift: beta.value)
        let c = x.shape[1]
        let out = record(y, "batchNorm", inputs: [x, gamma, beta]) { g in
            if GradientMode.isEnabled {
                let axes = [0] + Array(2..<x.rank)
                var bshape = [Int](repeating: 1, count: x.rank)
                bshape[1] = c
                let mu = x.mean(alongAxes: axes, keepingDimensions: true)
                let xc = x - mu
                let rs = (xc.square().mean(alongAxes: axes, keepingDimensions: true) + epsilon).power(-0.5)
                let xh = xc * rs
                let gh = g * gamma.reshaped(bshape)
                let gx = rs * (gh - gh.mean(alongAxes: axes, keepingDimensions: true)
                               - xh * (gh * xh).mean(alongAxes: axes, keepingDimensions: true))
                return [gx, (g * xh).sum(alongAxes: axes), g.sum(alongAxes: axes)]
            }
            let r = Tensor.batchNormBackward(g.value, x.value, mean: mean, rstd: rstd, gamma: gamma.value)
            return [Variable(r.gx), Variable(r.gGamma), Variable(r.gBeta)]
        }
        return (out, mean, variance)
    }

    /// Evaluation-mode batch normalization with fixed statistics `[C]`.
    public static func batchNormInference(_ x: Variable, gamma: Variable, beta: Variable,
                                          runningMean: Tensor, runningVariance: Tensor, epsilon: Float = 1e-5) -> Variable {
        let c = x.shape[1]
        var bshape = [Int](repeating: 1, count: x.rank)
        bshape[1] = c
        let rstd = Variable((runningVariance + epsilon).map(.sqrt).map(.reciprocal).reshaped(bshape))
        let mu = Variable(runningMean.reshaped(bshape))
        return (x - mu) * rstd * gamma.reshaped(bshape) + beta.reshaped(bshape)
    }

    /// Inverted dropout with drop probability `p`, drawing its mask from `generator`.
    public func dropout(_ p: Float, generator: inout SeededRandom) -> Variable {
        if p <= 0 { return self }
        return multiplied(byConstant: Tensor.dropoutMask(shape, p: p, generator: &generator))
    }
}
