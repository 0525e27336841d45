// SPDX-License-Identifier: Apache-2.0

import Support
import Foundation
import GGUF
import Kernels
import TestSupport
import Testing

/// The tiers this CPU can run besides the Swift one.
let simdTiers: [SIMDKernels.Level] = [SIMDKernels.Level.avx2, .avx512VNNI].filter { $0 <= SIMDKernels.detected }

/// Bit patterns, so that -0 vs 0 and NaN payloads count as differences.
func bits(_ xs: [Float]) -> [UInt32] { xs.map(\.bitPattern) }

@Suite("C SIMD kernels are bit-identical to the Swift kernels")
struct SIMDKernelTests {
    static func encode(_ x: [Float], _ fmt: ActivationFormat, level: SIMDKernels.Level) -> [UInt8] {
        var enc = [UInt8](repeating: 0xAA, count: fmt.byteCount(x.count))
        x.withUnsafeBufferPointer { xs in
            enc.withUnsafeMutableBytes { SIMDKernels.quantize(xs.baseAddress!, into: $0.baseAddress!, count: x.count, format: fmt, level: level) }
        }
        return enc
    }

    @Test("activation quantization: same bytes, including zero blocks and exact ties")
    func quantization() {
        var rng = SeededRandom(seed: 77)
        var x = rng.floats(48 * 32, in: -5...5)
        for j in 0..<32 { x[j] = 0 }                                  // amax = 0
        for j in 32..<64 { x[j] = Float(j - 48) * 0.5 }               // halves: ties to even
        for j in 64..<96 { x[j] = j == 70 ? -127 : Float(j % 7) }      // negative amax
        for fmt in [ActivationFormat.q8_0, .q8_1] {
            let ref = Self.encode(x, fmt, level: .swift)
            for level in simdTiers { #expect(Self.encode(x, fmt, level: level) == ref, "\(fmt) \(level)") }
        }
    }

    @Test("Q4_1 × Q8_1 and Q8_0 × Q8_0 single dot products", arguments: [1, 18, 48])
    func dots(blocks: Int) {
        for seed in UInt64(0)..<40 {
            var rng = SeededRandom(seed: seed &* 31 &+ 5)
            let x = rng.floats(blocks * 32, in: -3...3)
            let a1 = Self.encode(x, .q8_1, level: .swift), a0 = Self.encode(x, .q8_0, level: .swift)
            let w41 = Quantizers.randomBlocks(.q4_1, blocks: blocks, seed: seed)
            let w80 = Quantizers.randomBlocks(.q8_0, blocks: blocks, seed: seed + 1000)
            w41.withUnsafeBytes { w4 in
                w80.withUnsafeBytes { w8 in
                    a1.withUnsafeBytes { p1 in
                        a0.withUnsafeBytes { p0 in
                            let r4 = QuantizedDot.q4_1Q8_1(w4.baseAddress!, p1.baseAddress!, blocks: blocks)
                            let r8 = QuantizedDot.q8_0Q8_0(w8.baseAddress!, p0.baseAddress!, blocks: blocks)
                            for level in simdTiers {
                                let f4 = SIMDKernels.dotQ4_1Q8_1(w4.baseAddress!, p1.baseAddress!, blocks: blocks, level: level)
                                let f8 = SIMDKernels.dotQ8_0Q8_0(w8.baseAddress!, p0.baseAddress!, blocks: blocks, level: level)
                                #expect(f4.bitPattern == r4.bitPattern, "Q4_1 \(level) seed \(seed): \(f4) vs \(r4)")
                                #expect(f8.bitPattern == r8.bitPattern, "Q8_0 \(level) seed \(seed): \(f8) vs \(r8)")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("MatMul on every tier equals the Swift path exactly (rows, tokens and threads that do not divide the tiles)",
          arguments: [GGMLType.q4_1, .q8_0])
    func matmul(_ type: GGMLType) {
        for (rows, cols) in [(37, 576), (64, 1536), (5, 64)] {
            let raw = Quantizers.randomBlocks(type, blocks: rows * cols / 32, seed: UInt64(rows))
            var rng = SeededRandom(seed: UInt64(cols))
            let maxTokens = 40
            let x = rng.floats(maxTokens * cols, in: -2...2)
            for threads in [1, 2, 3] {
                let pool = ThreadPool(threads: threads)
                let scratch = MatMulScratch(maxTokens: maxTokens, maxCols: cols, threads: threads)
                for tokens in [1, 2, 3, 7, 8, 9, 16, 17, 33, 40] {
                    var ref = [Float](repeating: .nan, count: tokens * rows)
                    raw.withUnsafeBytes { wp in
                        let w = WeightMatrix(type: type, rows: rows, cols: cols, data: wp.baseAddress!)
                        x.withUnsafeBufferPointer { xp in
                            ref.withUnsafeMutableBufferPointer { MatMul.applySwift(w, xp.baseAddress!, $0.baseAddress!, tokens: tokens, pool: pool, scratch: scratch) }
                            for level in simdTiers {
                                var fast = [Float](repeating: .nan, count: tokens * rows)
                                fast.withUnsafeMutableBufferPointer {
                                    MatMul.apply(w, xp.baseAddress!, $0.baseAddress!, tokens: tokens, pool: pool, scratch: scratch, level: level)
                                }
                                let bad = (0..<fast.count).first { fast[$0].bitPattern != ref[$0].bitPattern }
                                #expect(bad == nil, "\(type) \(rows)×\(cols) \(level) threads \(threads) tokens \(tokens): [\(bad ?? 0)] \(fast[bad ?? 0]) vs \(ref[bad ?? 0])")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("thread pool: thousands of back-to-back jobs, and jobs after workers have parked")
    func poolStress() {
        let pool = ThreadPool(threads: 3)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        counts.initialize(repeating: 0, count: 3)
        for _ in 0..<2_000 { pool.run { counts[$0] += 1 } }
        for round in 0..<3 {
            usleep(20_000)  // longer than the spin phase: workers park
            pool.run { counts[$0] += 1 }
            #expect((0..<3).allSatisfy { counts[$0] == 2_001 + round })
        }
        counts.deallocate()
    }
}

@Suite("FastExp")
struct FastExpTests {
    /// The original formulation, lane by lane: float floor for the exponent split and explicit
    /// saturation for |n| > 192. The vector version must agree bit for bit.
    static func reference(_ x: Float) -> Float {
        func fma(_ a: Float, _ b: Float, _ c: Float) -> Float { c.addingProduct(a, b) }
        let shifter: Float = 0x1.8p23
        let n = fma(x, 0x1.715476p+0, shifter) - shifter
        let b = fma(-n, 0x1.7f7d1cp-20, fma(-n, 0x1.62e4p-1, x))
        let u = b * b
        let j = fma(fma(fma(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fma(0x1.555e66p-3, b, 0x1.fffdb6p-2)), u,
                    fma(0x1.ffffecp-1, b, 1))
        func pow2(_ k: Float) -> Float { Float(sign: .plus, exponent: Int(min(max(k, -126), 127)), significand: 1) }
        let half = (n * 0.5).rounded(.down)
        if n > 192 { return .infinity }
        if n < -192 { return 0 }
        return j * pow2(half) * pow2(n - half)
    }

    @Test("bit-identical to the lane-by-lane reference over [-150, 150], specials included")
    func parity() {
        var xs: [Float] = [-.infinity, .infinity, 0, -0.0, 88.3, 88.4, 88.8, -87.3, -103.9, -104.1, -133.1, -133.2, 133.1, 1e30, -1e30, 200, -200, 201, -201]
        var rng = SeededRandom(seed: 42)
        xs += rng.floats(20_000, in: -150...150)
        xs += rng.floats(20_000, in: -1...1)
        while xs.count % 16 != 0 { xs.append(0.5) }
        for i in stride(from: 0, to: xs.count, by: 16) {
            var v = SIMD16<Float>()
            for l in 0..<16 { v[l] = xs[i + l] }
            let e = FastExp.exp(v)
            for l in 0..<16 {
                #expect(e[l].bitPattern == Self.reference(xs[i + l]).bitPattern, "exp(\(xs[i + l])): \(e[l]) vs \(Self.reference(xs[i + l]))")
            }
        }
    }
}
