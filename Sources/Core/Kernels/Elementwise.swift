// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Row-wise and element-wise kernels of a transformer block, written to match ggml's numerics.
public enum Elementwise {
    /// RMS normalization: `out[i] = x[i] / sqrt(mean(x²) + eps) * weight[i]` (sum of squares in `Double`, as ggml).
    public static func rmsNorm(
        _ x: UnsafePointer<Float>, weight: UnsafePointer<Float>, eps: Float, out: UnsafeMutablePointer<Float>, count: Int
    ) {
        var sum = 0.0
        for i in 0..<count { sum += Double(x[i] * x[i]) }
        let mean = Float(sum / Double(count))
        let scale = 1 / sqrtf(mean + eps)
        for i in 0..<count { out[i] = (x[i] * scale) * weight[i] }
    }

    /// Fills `cos`/`sin` (`[dims / 2]`) for rotary embedding at `position`, as ggml's rope cache does:
    /// θ₀ = position, θᵢ₊₁ = θᵢ · base^(−2/dims).
    public static func ropeAngles(
        position: Int, dims: Int, base: Float, cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>
    ) {
        let thetaScale = powf(base, -2 / Float(dims))
        var theta = Float(position)
        for i in 0..<(dims / 2) {
            cos[i] = cosf(theta)
            sin[i] = sinf(theta)
            theta *= thetaScale
        }
    }

    /// Rotates adjacent pairs `(x[2i], x[2i+1])` of each head in place (ggml "normal" RoPE mode used
    /// for GGUF llama weights). `x` is `[heads, headDim]`; only the first `dims` entries of a head rotate.
    public static func rope(
        _ x: UnsafeMutablePointer<Float>, heads: Int, headDim: Int, dims: Int,
        cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
    ) {
        for h in 0..<heads {
            let v = x + h * headDim
            for i in 0..<(dims / 2) {
                let x0 = v[2 * i], x1 = v[2 * i + 1]
                // Fused exactly as ggml's compiled rope (one product rounded, the other fused).
                v[2 * i] = (-(x1 * sin[i])).addingProduct(x0, cos[i])
                v[2 * i + 1] = (x1 * cos[i]).addingProduct(x0, sin[i])
            }
        }
    }

    /// SwiGLU: `out[i] = silu(gate[i]) * up[i]` with `silu(x) = x / (1 + e^−x)` (``FastExp``).
    public static func swiglu(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int
    ) {
        var i = 0
        while i + 16 <= count {
            let g = UnsafeRawPointer(gate + i).loadUnaligned(as: SIMD16<Float>.self)
            let u = UnsafeRawPointer(up + i).loadUnaligned(as: SIMD16<Float>.self)
            let silu = g / (1 + FastExp.exp(-g))
            UnsafeMutableRawPointer(out + i).storeBytes(of: silu * u, as: SIMD16<Float>.self)
            i += 16
        }
        while i < count {
            let g = gate[i]
            out[i] = g / (1 + expf(-g)) * up[i]
            i += 1
        }
    }

    /// Reference SwiGLU with libm `expf`, for parity tests.
    public static func swigluReference(
        gate: UnsafePointer<Float>, up: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, count: Int
    ) {
        for i in 0..<count {
            let g = gate[i]
            out[i] = g / (1 + expf(-g)) * up[i]
        }
    }

    /// `x[i] += y[i]`.
    public static func add(_ x: UnsafeMutablePointer<Float>, _ y: UnsafePointer<Float>, count: Int) {
        for i in 0..<count { x[i] += y[i] }
    }

    /// In-place softmax of `x[0..<count]` after scaling by `scale`.
    ///
    /// Exponentials go through ``FastExp`` 16 lanes at a time (a partial last group is padded with
    /// −∞, which contributes 0) and the sum is accumulated in `Double`, as ggml does.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count: Int, scale: Float = 1) {
        var m = -Float.infinity
        for i in 0..<count {
            x[i] *= scale
            m = max(m, x[i])
        }
        var sum = 0.0
        var i = 0
        let mv = SIMD16<Float>(repeating: m)
        while i + 16 <= count {
            let e = FastExp.exp(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD16<Float>.self) - mv)
            UnsafeMutableRawPointer(x + i).storeBytes(of: e, as: SIMD16<Float>.self)
            sum += Double(QuantizedDot.reduce16(e))
            i += 16
        }
        if i < count {
            var v = SIMD16<Float>(repeating: -.infinity)
            let n = count - i
            for l in 0..<n { v[l] = x[i + l] }
            let e = FastExp.exp(v - mv)
            for l in 0..<n { x[i + l] = e[l] }
            sum += Double(QuantizedDot.reduce16(e))
        }
        let inv = Float(1 / sum)
        for i in 0..<count { x[i] *= inv }
    }
}
