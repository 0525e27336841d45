// SPDX-License-Identifier: Apache-2.0

public import Kernels

/// Data-parallel loops for tensor kernels on the ``ThreadPool`` bound by
/// ``ThreadPool/withCurrent(_:)`` (none bound: everything runs on the calling thread).
///
/// Small loops run inline, and so do loops nested in another parallel loop. Large products are
/// split across the pool by ``sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``,
/// each part one single-threaded OpenBLAS call: OpenBLAS is pinned to one thread, because its own
/// workers spin (`sched_yield`) after every threaded call and on a 2-core machine took about a
/// fifth of the CPU from the pool's im2col, norms and elementwise work (measured on ResNet-8).
///
/// ```swift
/// let pool = ThreadPool(threads: 2)
/// try pool.withCurrent { try trainer.fit(data) }
/// ```
public enum Parallel {
    /// Threads used by tensor kernels on this task or thread (the bound pool's, else 1).
    public static var threadCount: Int { ThreadPool.current?.threadCount ?? 1 }

    /// Products below this many multiply-adds run on the calling thread.
    static let gemmSplitMinimum = 1 << 18

    /// `C = alpha · op(A) · op(B) + beta · C` (row-major, as ``StridedGEMM``), split across the
    /// pool: by rows of `C` when `m ≥ n`, else by columns, each part one single-threaded OpenBLAS
    /// call on its slice. Runs inline when small, when nested in another parallel loop, or with one thread.
    public static func sgemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let byRows = m >= n
        // Parts are multiples of 16 rows/columns (whole micro-kernel tiles and cache lines).
        let tiles = ((byRows ? m : n) + 15) / 16
        let pool = ThreadPool.current
        let parts = Swift.min(pool?.threadCount ?? 1, tiles)
        if parts <= 1 || m * n * k < gemmSplitMinimum {
            StridedGEMM.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                              a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        // The split depends only on the shape and the thread count, never on whether the pool is
        // free: a product computed while another caller holds the pool runs the same parts one
        // after another, so results are bit-identical either way (OpenBLAS's edge kernels round
        // differently from its interior ones).
        func part(_ w: Int) {
            let tileRange = ThreadPool.range(of: tiles, part: w, parts: parts)
            let lo = tileRange.lowerBound * 16, hi = Swift.min(tileRange.upperBound * 16, byRows ? m : n)
            guard lo < hi else { return }
            if byRows {
                // Rows lo..<hi of op(A) and of C.
                StridedGEMM.sgemm(transposeA: transposeA, transposeB: transposeB, m: hi - lo, n: n, k: k, alpha: alpha,
                                  a: a + (transposeA ? lo : lo * lda), lda: lda, b: b, ldb: ldb,
                                  beta: beta, c: c + lo * ldc, ldc: ldc)
            } else {
                // Columns lo..<hi of op(B) and of C.
                StridedGEMM.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: hi - lo, k: k, alpha: alpha,
                                  a: a, lda: lda, b: b + (transposeB ? lo * ldb : lo), ldb: ldb,
                                  beta: beta, c: c + lo, ldc: ldc)
            }
        }
        let ran = pool!.tryRun { w in
            if w < parts { part(w) }
        }
        if !ran {
            for w in 0..<parts { part(w) }
        }
    }

    /// How many parts ``forEachPart(count:_:)`` will use for `count` items.
    public static func partCount(_ count: Int) -> Int { Swift.max(1, Swift.min(threadCount, count)) }

    /// Runs `body(part, range)` over ``partCount(_:)`` contiguous ranges of `0..<count`, one per
    /// thread: for loops whose items each call (single-threaded) BLAS, such as one GEMM per image.
    public static func forEachPart(count: Int, _ body: (Int, Range<Int>) -> Void) {
        let parts = partCount(count)
        let ran = parts > 1 && ThreadPool.current!.tryRun { w in
            if w < parts { body(w, ThreadPool.range(of: count, part: w, parts: parts)) }
        }
        if !ran {
            for part in 0..<parts { body(part, ThreadPool.range(of: count, part: part, parts: parts)) }
        }
    }

    /// Runs `body` over `0..<count` split into at most ``threadCount`` contiguous ranges, when the
    /// work is at least `grain` items per thread; otherwise inline.
    @inline(__always)
    public static func forEach(count: Int, grain: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let pool = ThreadPool.current
        let parts = min(pool?.threadCount ?? 1, count / max(grain, 1))
        let ran = parts > 1 && pool!.tryRun { w in
            if w < parts { body(ThreadPool.range(of: count, part: w, parts: parts)) }
        }
        if !ran { body(0..<count) }
    }
}
