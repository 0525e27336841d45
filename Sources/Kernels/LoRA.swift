// SPDX-License-Identifier: Apache-2.0

/// The two halves of a low-rank update `y += s · (x · Aᵀ) · Bᵀ`, applied to a run of tokens that
/// share one adapter (S-LoRA's gathered kernels: a decode batch calls them once per token, MBGMV;
/// a prefill once per run of tokens of the same request, MBGMM). Mixed ranks need no padding:
/// every call takes its own `rank`.
///
/// `A` is stored `[rank, cols]` (its rows are dotted with the input) and `B` transposed,
/// `[rank, rows]`, so the expansion is a contiguous SIMD `axpy` per rank component.
public enum LoRAKernels {
    /// `u[t, r] = Σ_c a[r, c] · x[t, c]` for `tokens` rows of `x` (`ldx` floats apart).
    ///
    /// - Parameters:
    ///   - x: `[tokens, cols]` with row stride `ldx`.
    ///   - a: `[rank, cols]`.
    ///   - u: `[tokens, rank]` output.
    public static func shrink(_ x: UnsafePointer<Float>, ldx: Int, tokens: Int, a: UnsafePointer<Float>,
                              rank: Int, cols: Int, u: UnsafeMutablePointer<Float>) {
        for t in 0..<tokens {
            let xr = x + t * ldx
            for r in 0..<rank { u[t * rank + r] = QuantizedDot.f32(a + r * cols, xr, count: cols) }
        }
    }

    /// `y[t, o] += scale · Σ_r u[t, r] · bT[r, o]`.
    ///
    /// - Parameters:
    ///   - u: `[tokens, rank]` from ``shrink(_:ldx:tokens:a:rank:cols:u:)``.
    ///   - bT: `[rank, rows]` (B transposed).
    ///   - y: `[tokens, rows]` with row stride `ldy`, accumulated into.
    public static func expand(_ u: UnsafePointer<Float>, tokens: Int, bT: UnsafePointer<Float>, rank: Int, rows: Int,
                              scale: Float, y: UnsafeMutablePointer<Float>, ldy: Int) {
        for t in 0..<tokens {
            let yr = y + t * ldy
            for r in 0..<rank {
                let c = scale * u[t * rank + r]
                let br = bT + r * rows
                let cv = SIMD8<Float>(repeating: c)
                var o = 0
                while o + 8 <= rows {
                    let yv = UnsafeRawPointer(yr + o).loadUnaligned(as: SIMD8<Float>.self)
                    let bv = UnsafeRawPointer(br + o).loadUnaligned(as: SIMD8<Float>.self)
                    UnsafeMutableRawPointer(yr + o).storeBytes(of: yv.addingProduct(cv, bv), as: SIMD8<Float>.self)
                    o += 8
                }
                while o < rows { yr[o] += c * br[o]; o += 1 }
            }
        }
    }

    /// Naive reference of shrink followed by expand, in `Double`: `y[t, o] += scale · Σ_r bT[r, o] · Σ_c a[r, c] · x[t, c]`.
    public static func reference(_ x: [Float], tokens: Int, cols: Int, a: [Float], bT: [Float], rank: Int, rows: Int,
                                 scale: Float, y: inout [Float]) {
        for t in 0..<tokens {
            var u = [Double](repeating: 0, count: rank)
            for r in 0..<rank {
                for c in 0..<cols { u[r] += Double(a[r * cols + c]) * Double(x[t * cols + c]) }
            }
            for o in 0..<rows {
                var s = 0.0
                for r in 0..<rank { s += u[r] * Double(bT[r * rows + o]) }
                y[t * rows + o] = Float(Double(y[t * rows + o]) + Double(scale) * s)
            }
        }
    }
}
