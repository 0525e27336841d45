// SPDX-License-Identifier: Apache-2.0

internal import CBLAS

/// Single-precision GEMM through OpenBLAS, with a naive reference beside it.
public enum GEMM {
    /// `C[m, n] = alpha · A[m, k] · op(B) + beta · C`, row-major; `op(B)` is `B[k, n]`, or `B[n, k]ᵀ`
    /// when `transposeB`.
    public static func sgemm(
        m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        transposeB: Bool, beta: Float = 0, c: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(k), b, Int32(transposeB ? k : n),
                    beta, c, Int32(n))
    }

    /// Naive triple loop in `Double`; the parity reference for ``sgemm(m:n:k:alpha:a:b:transposeB:beta:c:)``.
    public static func reference(
        m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
        transposeB: Bool, beta: Float = 0, c: UnsafeMutablePointer<Float>
    ) {
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a[i * k + p]) * Double(transposeB ? b[j * k + p] : b[p * n + j]) }
                c[i * n + j] = alpha * Float(s) + (beta == 0 ? 0 : beta * c[i * n + j])
            }
        }
    }

    /// Threads OpenBLAS uses: always 1. Tern pins it when the program loads (`CKernels`'
    /// `tern_pin_openblas_threads`) so that only ``ThreadPool`` threads are ever awake; OpenBLAS's
    /// own workers spin in `sched_yield` after every threaded call and took a fifth of the CPU
    /// from the pool's work on a 2-core machine.
    public static var openBLASThreads: Int { Int(openblas_get_num_threads()) }
}
