// SPDX-License-Identifier: Apache-2.0

public import Kernels
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Data-parallel loops for tensor kernels on a process-wide ``ThreadPool`` (spin, then park).
///
/// The pool is created on first use with ``threadCount`` threads (default: the `TERN_THREADS`
/// environment variable, else the online CPU count). Small loops run inline; nested calls run inline.
///
/// OpenBLAS is pinned to one thread once the pool exists, and large products are split across
/// the pool by ``sgemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``. OpenBLAS's
/// own workers spin (`sched_yield`) for a while after every threaded call; on a 2-core machine
/// that spinning took about a fifth of the CPU from the pool's im2col, norms and elementwise work
/// between products (measured on ResNet-8 training), so only one set of threads is ever awake.
public enum Parallel {
    nonisolated(unsafe) private static var pool: ThreadPool?
    /// Held while the pool runs a job; callers that find it taken (another thread, or a nested
    /// loop) run inline instead.
    private static let busy = Atomic<Bool>(false)

    /// Threads used by tensor kernels (the calling thread included).
    nonisolated(unsafe) public private(set) static var threadCount: Int = {
        if let s = getenv("TERN_THREADS"), let n = Int(String(cString: s)), n > 0 { return n }
        return max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }()

    /// Sets the number of threads for tensor kernels and for OpenBLAS. Call before heavy work.
    public static func setThreads(_ n: Int) {
        precondition(n >= 1, "Parallel.setThreads: \(n)")
        threadCount = n
        pool = nil
        GEMM.setThreads(1)
    }

    /// The pool for `threadCount` threads, created on first use (OpenBLAS is pinned to one
    /// thread then: the pool does the splitting). Call only while holding `busy`.
    private static func activePool() -> ThreadPool {
        if pool == nil || pool!.threadCount != threadCount {
            GEMM.setThreads(1)
            pool = ThreadPool(threads: threadCount)
        }
        return pool!
    }

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
        let parts = Swift.min(threadCount, tiles)
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
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            for w in 0..<parts { part(w) }
            return
        }
        activePool().run { w in
            if w < parts { part(w) }
        }
        busy.store(false, ordering: .releasing)
    }

    /// How many parts ``forEachPart(count:_:)`` will use for `count` items.
    public static func partCount(_ count: Int) -> Int { Swift.max(1, Swift.min(threadCount, count)) }

    /// Runs `body(part, range)` over ``partCount(_:)`` contiguous ranges of `0..<count`, one per
    /// thread: for loops whose items each call (single-threaded) BLAS, such as one GEMM per image.
    public static func forEachPart(count: Int, _ body: (Int, Range<Int>) -> Void) {
        let parts = partCount(count)
        if parts <= 1 || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for part in 0..<parts { body(part, ThreadPool.range(of: count, part: part, parts: parts)) }
            return
        }
        activePool().run { w in
            if w < parts { body(w, ThreadPool.range(of: count, part: w, parts: parts)) }
        }
        busy.store(false, ordering: .releasing)
    }

    /// Runs `body` over `0..<count` split into at most ``threadCount`` contiguous ranges, when the
    /// work is at least `grain` items per thread; otherwise inline.
    @inline(__always)
    public static func forEach(count: Int, grain: Int = 32_768, _ body: (Range<Int>) -> Void) {
        let parts = min(threadCount, count / max(grain, 1))
        if parts <= 1 || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            body(0..<count)
            return
        }
        activePool().run { w in
            if w < parts { body(ThreadPool.range(of: count, part: w, parts: parts)) }
        }
        busy.store(false, ordering: .releasing)
    }
}
