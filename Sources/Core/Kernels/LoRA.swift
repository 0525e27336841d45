// SPDX-License-Identifier: Apache-2.0

internal import CKernels

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

    // MARK: f16 rows gathered from pool pages (S-LoRA's unified paging)

    /// ``shrink(_:ldx:tokens:a:rank:cols:u:)`` over f16 rows found through a pointer table:
    /// `aRows[r]` points at row r of A (`cols` halves, contiguous).
    public static func shrinkPaged(_ x: UnsafePointer<Float>, ldx: Int, tokens: Int, aRows: UnsafePointer<UnsafePointer<Float16>>,
                                   rank: Int, cols: Int, u: UnsafeMutablePointer<Float>, level: SIMDKernels.Level = SIMDKernels.detected) {
        guard level >= .avx2 else {
            shrinkPagedReference(x, ldx: ldx, tokens: tokens, aRows: aRows, rank: rank, cols: cols, u: u)
            return
        }
        UnsafeRawPointer(aRows).withMemoryRebound(to: UnsafePointer<UInt16>?.self, capacity: rank) { rows in
            tern_lora_shrink_f16(x, ldx, Int32(tokens), rows, Int32(rank), Int32(cols), u)
        }
    }

    /// ``expand(_:tokens:bT:rank:rows:scale:y:ldy:)`` over f16 rows: `bRows[r]` points at row r of
    /// Bᵀ (`rows` halves, contiguous).
    public static func expandPaged(_ u: UnsafePointer<Float>, tokens: Int, bRows: UnsafePointer<UnsafePointer<Float16>>, rank: Int,
                                   rows: Int, scale: Float, y: UnsafeMutablePointer<Float>, ldy: Int,
                                   level: SIMDKernels.Level = SIMDKernels.detected) {
        guard level >= .avx2 else {
            expandPagedReference(u, tokens: tokens, bRows: bRows, rank: rank, rows: rows, scale: scale, y: y, ldy: ldy)
            return
        }
        UnsafeRawPointer(bRows).withMemoryRebound(to: UnsafePointer<UInt16>?.self, capacity: rank) { table in
            tern_lora_expand_f16(u, Int32(tokens), table, Int32(rank), Int32(rows), scale, y, ldy)
        }
    }

    /// Scalar reference of ``shrinkPaged(_:ldx:tokens:aRows:rank:cols:u:level:)``.
    public static func shrinkPagedReference(_ x: UnsafePointer<Float>, ldx: Int, tokens: Int, aRows: UnsafePointer<UnsafePointer<Float16>>,
                                            rank: Int, cols: Int, u: UnsafeMutablePointer<Float>) {
        for t in 0..<tokens {
            for r in 0..<rank {
                var s = 0.0
                for c in 0..<cols { s += Double(Float(aRows[r][c])) * Double(x[t * ldx + c]) }
                u[t * rank + r] = Float(s)
            }
        }
    }

    /// Scalar reference of ``expandPaged(_:tokens:bRows:rank:rows:scale:y:ldy:level:)``.
    public static func expandPagedReference(_ u: UnsafePointer<Float>, tokens: Int, bRows: UnsafePointer<UnsafePointer<Float16>>, rank: Int,
                                            rows: Int, scale: Float, y: UnsafeMutablePointer<Float>, ldy: Int) {
        for t in 0..<tokens {
            for o in 0..<rows {
                var s = 0.0
                for r in 0..<rank { s += Double(scale) * Double(u[t * rank + r]) * Double(Float(bRows[r][o])) }
                y[t * ldy + o] = Float(Double(y[t * ldy + o]) + s)
            }
        }
    }
}
