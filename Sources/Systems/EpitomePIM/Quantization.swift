// SPDX-License-Identifier: Apache-2.0

public import Autograd
public import Tensors

/// Uniform symmetric weight quantization with one scale per output channel, trained with a
/// straight-through estimator (fake quantization: the forward pass sees the quantized value, the
/// gradient passes through unchanged).
///
/// For an epitome the quantized tensor is the epitome itself (the crossbar contents), not the
/// expanded weight, and the scale of each epitome output channel minimises the **reuse-weighted**
/// squared error `Σ_i n_i (e_i − q(e_i))²`, where `n_i` counts the weight positions that read
/// element `i`: a heavily reused element's error is replicated that many times in `W`. The clip
/// value is searched over a grid of fractions of the channel's largest magnitude (an [REC] design:
/// the paper states per-epitome quantization, not its estimator).
///
/// ```swift
/// let q = WeightQuantizer(bits: 3)
/// let wq = q(w, reuse: nil)       // `w [out, ...]` fake-quantized to 7 levels per output channel
/// ```
public struct WeightQuantizer: Sendable, Equatable {
    /// Weight precision (levels `−(2^(b−1) − 1) … 2^(b−1) − 1`).
    public var bits: Int

    public init(bits: Int) {
        precondition(bits >= 2 && bits <= 16, "WeightQuantizer: \(bits) bits")
        self.bits = bits
    }

    /// Largest quantized magnitude in steps.
    public var maxLevel: Float { Float((1 << (bits - 1)) - 1) }

    /// Per-output-channel scales (step sizes) of `w [out, ...]`, optionally weighted by `reuse`
    /// (same element count as `w`).
    public func scales(_ w: Tensor, reuse: [Int]? = nil) -> [Float] {
        let out = w.shape[0], inner = w.count / out
        let values = w.scalars
        let q = maxLevel
        return (0..<out).map { o in
            let row = values[(o * inner)..<((o + 1) * inner)]
            let peak = row.map(Swift.abs).max() ?? 0
            if peak == 0 { return 1 }
            var best: (error: Double, scale: Float) = (.infinity, peak / q)
            for step in 0..<16 {
                let scale = peak * (1 - Float(step) * 0.05) / q
                var error = 0.0
                for (k, v) in row.enumerated() {
                    let n = reuse.map { Double($0[o * inner + k]) } ?? 1
                    let d = v - quantize(v, scale: scale)
                    error += n * Double(d * d)
                }
                if error < best.error { best = (error, scale) }
            }
            return best.scale
        }
    }

    /// `clamp(round(v / s), ±maxLevel) · s`.
    @inline(__always)
    public func quantize(_ v: Float, scale s: Float) -> Float {
        Swift.min(Swift.max((v / s).rounded(), -maxLevel), maxLevel) * s
    }

    /// The quantized tensor (no graph).
    public func quantized(_ w: Tensor, reuse: [Int]? = nil) -> Tensor {
        let s = scales(w, reuse: reuse)
        let inner = w.count / w.shape[0]
        var out = w.contiguousCopy()
        out.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = quantize(p[i], scale: s[i / inner]) }
        }
        return out
    }

    /// Fake quantization with a straight-through gradient.
    public func callAsFunction(_ w: Variable, reuse: [Int]? = nil) -> Variable {
        w.straightThrough(Variable(quantized(w.value, reuse: reuse)))
    }
}
