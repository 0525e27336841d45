// SPDX-License-Identifier: Apache-2.0

import Kernels

extension Tensor {
    /// Matrix product of two rank-2 tensors: `[m, k] × [k, n] -> [m, n]` (OpenBLAS).
    public func matmul(_ other: Tensor) -> Tensor {
        precondition(rank == 2 && other.rank == 2 && shape[1] == other.shape[0], "matmul: \(shape) × \(other.shape)")
        return Tensor.matmul(self, other)
    }

    /// `op(a) · op(b)` where `op` transposes the last two dimensions when asked.
    ///
    /// Shapes: `a [..., m, k]` (or `[..., k, m]` when `transposeA`), `b [..., k, n]` (or `[..., n, k]`).
    /// Batch dimensions must match, or `b` may be rank 2 and is then shared by every batch entry.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul: \(a.shape) × \(b.shape)")
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let ka = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        precondition(ka == kb, "matmul: inner dimensions of \(a.shape)\(transposeA ? "ᵀ" : "") × \(b.shape)\(transposeB ? "ᵀ" : "")")
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        let batch = batchA.reduce(1, *)
        let shared = b.rank == 2
        precondition(shared || batchA == batchB, "matmul: batch dims \(a.shape) × \(b.shape)")
        var out = Tensor(uninitializedShape: batchA + [m, n])
        let c = out.storage.base
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                if shared && !transposeA {
                    // Fold the batch into rows: one GEMM.
                    Parallel.sgemm(transposeA: false, transposeB: transposeB, m: batch * m, n: n, k: ka,
                                      a: pa.baseAddress!, lda: ka, b: pb.baseAddress!, ldb: transposeB ? ka : n,
                                      c: c, ldc: n)
                    return
                }
                // Batch entries (attention heads) are small GEMMs: one thread each, BLAS single-threaded.
                let body = { (range: Range<Int>) in
                    for i in range {
                        StridedGEMM.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: ka,
                                          a: pa.baseAddress! + i * m * ka, lda: transposeA ? m : ka,
                                          b: pb.baseAddress! + (shared ? 0 : i * ka * n), ldb: transposeB ? ka : n,
                                          c: c + i * m * n, ldc: n)
                    }
                }
                if batch > 1 && m * n * ka < 1 << 22 {
                    Parallel.forEachPart(count: batch) { _, range in body(range) }
                } else {
                    for i in 0..<batch {
                        Parallel.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: ka,
                                       a: pa.baseAddress! + i * m * ka, lda: transposeA ? m : ka,
                                       b: pb.baseAddress! + (shared ? 0 : i * ka * n), ldb: transposeB ? ka : n,
                                       c: c + i * m * n, ldc: n)
                    }
                }
            }
        }
        return out
    }
}
