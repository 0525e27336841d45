// SPDX-License-Identifier: Apache-2.0

internal import CKernels
#if canImport(Glibc)
import Glibc
#endif
public import GGUF

/// The SIMD kernel tier the running CPU supports, chosen once at startup.
///
/// Q4_1 and Q8_0 matrix products run in the `CKernels` target (C intrinsics) when the CPU has
/// AVX2; with AVX-512 VNNI they use `vpdpbusd` and a tiled GEMM for multi-token passes. Every
/// tier produces results bit-identical to the Swift kernels in ``QuantizedDot``.
public enum SIMDKernels {
    /// A kernel tier.
    public enum Level: Int, Sendable, Comparable, CustomStringConvertible {
        /// Portable Swift kernels only.
        case swift = 0
        /// AVX2 + FMA + F16C (`maddubs` integer dot products).
        case avx2 = 1
        /// AVX-512 BW/VL + VNNI (`vpdpbusd`, 512-bit GEMM tiles).
        case avx512VNNI = 2

        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

        public var description: String {
            switch self {
            case .swift: "swift"
            case .avx2: "avx2"
            case .avx512VNNI: "avx512-vnni"
            }
        }
    }

    /// What this CPU supports, capped by the `TERN_KERNELS` environment variable (`swift`, `avx2`)
    /// when set, for measurements and debugging.
    public static let detected: Level = {
        let cpu = Level(rawValue: Int(tern_simd_level())) ?? .swift
        switch getenv("TERN_KERNELS").map({ String(cString: $0) }) {
        case "swift": return .swift
        case "avx2": return min(cpu, .avx2)
        default: return cpu
        }
    }()

    /// Whether `type` has C kernels (Q4_1 and Q8_0, SmolLM2's formats).
    static func supports(_ type: GGMLType) -> Bool { type == .q4_1 || type == .q8_0 }

    /// Bytes of packed activations for `tokens` rows of `cols` inputs.
    static func packedBytes(tokens: Int, cols: Int) -> Int { Int(tern_packed_bytes(Int32(tokens), Int32(cols / 32))) }

    // MARK: single dot products (parity tests)

    /// Q4_1 × Q8_1 dot product on the given tier; equal bit for bit to ``QuantizedDot/q4_1Q8_1(_:_:blocks:)``.
    public static func dotQ4_1Q8_1(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int, level: Level) -> Float {
        switch level {
        case .swift: QuantizedDot.q4_1Q8_1(w, a, blocks: blocks)
        case .avx2: tern_dot_q4_1_q8_1_avx2(w, a, Int32(blocks))
        case .avx512VNNI: tern_dot_q4_1_q8_1_vnni(w, a, Int32(blocks))
        }
    }

    /// Q8_0 × Q8_0 dot product on the given tier; equal bit for bit to ``QuantizedDot/q8_0Q8_0(_:_:blocks:)``.
    public static func dotQ8_0Q8_0(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int, level: Level) -> Float {
        switch level {
        case .swift: QuantizedDot.q8_0Q8_0(w, a, blocks: blocks)
        case .avx2: tern_dot_q8_0_q8_0_avx2(w, a, Int32(blocks))
        case .avx512VNNI: tern_dot_q8_0_q8_0_vnni(w, a, Int32(blocks))
        }
    }

    /// Activation quantization on the given tier; equal byte for byte to ``ActivationQuantization``.
    public static func quantize(_ x: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, count: Int,
                                format: ActivationFormat, level: Level) {
        switch (format, level) {
        case (.q8_0, .swift): ActivationQuantization.quantizeQ8_0(x, into: dst, count: count)
        case (.q8_1, .swift): ActivationQuantization.quantizeQ8_1(x, into: dst, count: count)
        case (.q8_0, _): tern_quantize_q8_0(x, dst, Int32(count))
        case (.q8_1, _): tern_quantize_q8_1(x, dst, Int32(count))
        default: preconditionFailure("SIMDKernels.quantize: \(format) is not an 8-bit block format")
        }
    }

    // MARK: matrix products

    /// `y = x · Wᵀ` for Q4_1 or Q8_0 weights on tier `level` (≥ ``Level/avx2``), parallel over rows.
    ///
    /// Single tokens (and every pass on AVX2) quantize into ggml's block layout and run four rows
    /// at a time; multi-token passes on VNNI pack activations into 8-token groups and run
    /// 4-row × 8-token tiles. Per (row, token) the arithmetic is that of ``QuantizedDot``.
    static func apply(
        _ w: WeightMatrix, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, tokens: Int,
        pool: ThreadPool, scratch: MatMulScratch, level: Level
    ) {
        let blocks = w.cols / 32
        let rowBytes = w.rowBytes
        let rows = w.rows
        let parts = pool.threadCount
        precondition(parts <= scratch.threads, "MatMul: scratch sized for fewer threads")
        // Rows go to threads in multiples of four (the kernels' row group).
        @inline(__always) func rowRange(_ worker: Int) -> (Int32, Int32) {
            let groups = ThreadPool.range(of: (rows + 3) / 4, part: worker, parts: parts)
            return (Int32(groups.lowerBound * 4), Int32(min(rows, groups.upperBound * 4)))
        }
        if tokens >= 2 && level >= .avx512VNNI {
            let packed = scratch.packed
            precondition(packedBytes(tokens: tokens, cols: w.cols) <= scratch.packedCapacity,
                         "MatMul: packed scratch too small for \(tokens)×\(w.cols)")
            let groups = (tokens + 7) / 8
            let withMins: Int32 = w.type == .q4_1 ? 1 : 0
            if groups >= 2 && parts > 1 {
                pool.run { worker in
                    let g = ThreadPool.range(of: groups, part: worker, parts: parts)
                    tern_pack_activations(x, Int32(w.cols), Int32(tokens), Int32(blocks), packed,
                                          Int32(g.lowerBound), Int32(g.upperBound), withMins)
                }
            } else {
                tern_pack_activations(x, Int32(w.cols), Int32(tokens), Int32(blocks), packed, 0, Int32(groups), withMins)
            }
            pool.run { worker in
                let (r0, r1) = rowRange(worker)
                if w.type == .q4_1 {
                    tern_gemm_q4_1_packed(w.data, rowBytes, r0, r1, packed, Int32(tokens), Int32(blocks), y, rows)
                } else {
                    tern_gemm_q8_0_packed(w.data, rowBytes, r0, r1, packed, Int32(tokens), Int32(blocks), y, rows)
                }
            }
            return
        }
        let fmt = w.activationFormat
        let enc = fmt.byteCount(w.cols)
        let act = scratch.activations
        precondition(tokens * enc <= scratch.activationCapacity, "MatMul: scratch too small for \(tokens)×\(w.cols)")
        for t in 0..<tokens {
            if fmt == .q8_1 {
                tern_quantize_q8_1(x + t * w.cols, act + t * enc, Int32(w.cols))
            } else {
                tern_quantize_q8_0(x + t * w.cols, act + t * enc, Int32(w.cols))
            }
        }
        let lv = Int32(level.rawValue)
        pool.run { worker in
            let (r0, r1) = rowRange(worker)
            if w.type == .q4_1 {
                tern_gemv_q4_1(w.data, rowBytes, r0, r1, act, enc, Int32(tokens), Int32(blocks), y, rows, lv)
            } else {
                tern_gemv_q8_0(w.data, rowBytes, r0, r1, act, enc, Int32(tokens), Int32(blocks), y, rows, lv)
            }
        }
    }
}
