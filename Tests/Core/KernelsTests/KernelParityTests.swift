// SPDX-License-Identifier: Apache-2.0

import Support
import Foundation
import GGUF
import Kernels
import Tensors
import TestSupport
import Testing

/// Relative closeness with an absolute floor.
func close(_ a: Float, _ b: Float, rel: Float = 1e-5, abs absTol: Float = 1e-5) -> Bool {
    abs(a - b) <= max(absTol, rel * max(abs(a), abs(b)))
}

@Suite("Quantized dot products: fast path versus scalar reference")
struct DotProductTests {
    static let blocks = 18  // 576 inputs, SmolLM2's width

    func activations(_ fmt: ActivationFormat, seed: UInt64) -> (floats: [Float], encoded: [UInt8]) {
        var rng = SeededRandom(seed: seed)
        let x = rng.floats(Self.blocks * 32, in: -3...3)
        var enc = [UInt8](repeating: 0, count: fmt.byteCount(x.count))
        x.withUnsafeBufferPointer { xs in
            enc.withUnsafeMutableBytes { dst in
                switch fmt {
                case .q8_0: ActivationQuantization.quantizeQ8_0(xs.baseAddress!, into: dst.baseAddress!, count: x.count)
                case .q8_1: ActivationQuantization.quantizeQ8_1(xs.baseAddress!, into: dst.baseAddress!, count: x.count)
                default: break
                }
            }
        }
        return (x, enc)
    }

    @Test("Q4_1 × Q8_1")
    func q4_1() {
        for seed in UInt64(0)..<20 {
            let w = Quantizers.randomBlocks(.q4_1, blocks: Self.blocks, seed: seed)
            let a = activations(.q8_1, seed: seed + 100).encoded
            let (fast, ref) = w.withUnsafeBytes { wp in
                a.withUnsafeBytes { ap in
                    (QuantizedDot.q4_1Q8_1(wp.baseAddress!, ap.baseAddress!, blocks: Self.blocks),
                     QuantizedDot.q4_1Q8_1Reference(wp.baseAddress!, ap.baseAddress!, blocks: Self.blocks))
                }
            }
            #expect(close(fast, ref, rel: 1e-5, abs: 1e-4), "seed \(seed): \(fast) vs \(ref)")
        }
    }

    @Test("Q4_0 × Q8_0 and Q8_0 × Q8_0")
    func q4_0AndQ8_0() {
        for seed in UInt64(0)..<20 {
            let a = activations(.q8_0, seed: seed + 100).encoded
            for type in [GGMLType.q4_0, .q8_0] {
                let w = Quantizers.randomBlocks(type, blocks: Self.blocks, seed: seed)
                let (fast, ref) = w.withUnsafeBytes { wp in
                    a.withUnsafeBytes { ap in
                        type == .q4_0
                            ? (QuantizedDot.q4_0Q8_0(wp.baseAddress!, ap.baseAddress!, blocks: Self.blocks),
                               QuantizedDot.q4_0Q8_0Reference(wp.baseAddress!, ap.baseAddress!, blocks: Self.blocks))
                            : (QuantizedDot.q8_0Q8_0(wp.baseAddress!, ap.baseAddress!, blocks: Self.blocks),
                               QuantizedDot.q8_0Q8_0Reference(wp.baseAddress!, ap.baseAddress!, blocks: Self.blocks))
                    }
                }
                #expect(close(fast, ref, rel: 1e-5, abs: 1e-4), "\(type) seed \(seed): \(fast) vs \(ref)")
            }
        }
    }

    @Test("Q8 activation quantization: scale, rounding and the Q8_1 sum")
    func activationQuantization() {
        for fmt in [ActivationFormat.q8_0, .q8_1] {
            let (x, enc) = activations(fmt, seed: 5)
            let blockBytes = fmt == .q8_0 ? 34 : 36
            let qOff = fmt == .q8_0 ? 2 : 4
            enc.withUnsafeBytes { p in
                for b in 0..<Self.blocks {
                    let blk = p.baseAddress! + b * blockBytes
                    let d = Float(Float16(bitPattern: blk.loadUnaligned(as: UInt16.self)))
                    let amax = x[(b * 32)..<(b * 32 + 32)].map(abs).max()!
                    #expect(close(d, amax / 127, rel: 1e-3))
                    var sum = 0
                    for j in 0..<32 {
                        let q = Int(blk.load(fromByteOffset: qOff + j, as: Int8.self))
                        sum += q
                        #expect(abs(Float(q) * amax / 127 - x[b * 32 + j]) <= amax / 127 * 0.5001 + 1e-6)
                    }
                    if fmt == .q8_1 {
                        let s = Float(Float16(bitPattern: blk.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
                        #expect(close(s, Float(Float16(d * Float(sum))), rel: 1e-3, abs: 1e-3))
                    }
                }
            }
        }
    }
}

@Suite("MatMul fast paths versus the dequantize-and-accumulate reference")
struct MatMulTests {
    @Test("every weight type, 1 and 2 threads, several token counts",
          arguments: [GGMLType.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K, .q2_K, .q3_K])
    func parity(_ type: GGMLType) {
        let cols = 512, rows = 37
        var wr = SeededRandom(seed: 3)
        let raw = type.blockSize == 1
            ? Quantizers.quantize(wr.floats(rows * cols, in: -0.5...0.5), as: type)
            : Quantizers.randomBlocks(type, blocks: rows * cols / type.blockSize, seed: 11)
        var rng = SeededRandom(seed: 4)
        for threads in [1, 2] {
            let pool = ThreadPool(threads: threads)
            let scratch = MatMulScratch(maxTokens: 5, maxCols: cols, threads: threads)
            for tokens in [1, 5] {
                let x = rng.floats(tokens * cols, in: -2...2)
                var fast = [Float](repeating: 0, count: tokens * rows)
                var ref = fast
                raw.withUnsafeBytes { wp in
                    let w = WeightMatrix(type: type, rows: rows, cols: cols, data: wp.baseAddress!)
                    x.withUnsafeBufferPointer { xp in
                        fast.withUnsafeMutableBufferPointer { MatMul.apply(w, xp.baseAddress!, $0.baseAddress!, tokens: tokens, pool: pool, scratch: scratch) }
                        ref.withUnsafeMutableBufferPointer { MatMul.reference(w, xp.baseAddress!, $0.baseAddress!, tokens: tokens) }
                    }
                }
                // Quantized activations add error relative to the f32 reference: bound it by the row's scale.
                let quantizedActivations = [GGMLType.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .f16].contains(type)
                let scale = ref.map(abs).max()!
                for i in 0..<(tokens * rows) {
                    let tol: Float = quantizedActivations ? 0.02 * scale : 1e-4 * max(1, scale)
                    #expect(abs(fast[i] - ref[i]) <= tol, "\(type) t=\(threads) n=\(tokens) [\(i)]: \(fast[i]) vs \(ref[i])")
                }
            }
        }
    }
}

@Suite("Element-wise kernels")
struct ElementwiseTests {
    @Test("RMSNorm equals the formula")
    func rmsNorm() {
        var rng = SeededRandom(seed: 1)
        let x = rng.floats(576, in: -4...4), w = rng.floats(576, in: 0.5...1.5)
        var out = [Float](repeating: 0, count: 576)
        Elementwise.rmsNorm(x, weight: w, eps: 1e-5, out: &out, count: 576)
        let ms = x.reduce(0.0) { $0 + Double($1) * Double($1) } / 576
        for i in 0..<576 { #expect(close(out[i], Float(Double(x[i]) / (ms + 1e-5).squareRoot() * Double(w[i])), rel: 1e-5)) }
    }

    @Test("RoPE rotates adjacent pairs by position·base^(−2i/d) and preserves norms")
    func rope() {
        var rng = SeededRandom(seed: 2)
        let heads = 3, headDim = 64, pos = 37
        let x = rng.floats(heads * headDim)
        var y = x
        var c = [Float](repeating: 0, count: 32), s = c
        Elementwise.ropeAngles(position: pos, dims: headDim, base: 100_000, cos: &c, sin: &s)
        Elementwise.rope(&y, heads: heads, headDim: headDim, dims: headDim, cos: c, sin: s)
        for h in 0..<heads {
            for i in 0..<(headDim / 2) {
                let theta = Double(pos) * pow(100_000.0, -2.0 * Double(i) / Double(headDim))
                let x0 = Double(x[h * headDim + 2 * i]), x1 = Double(x[h * headDim + 2 * i + 1])
                #expect(close(y[h * headDim + 2 * i], Float(x0 * cos(theta) - x1 * sin(theta)), rel: 1e-3, abs: 1e-4))
                #expect(close(y[h * headDim + 2 * i + 1], Float(x0 * sin(theta) + x1 * cos(theta)), rel: 1e-3, abs: 1e-4))
            }
        }
        // Position 0 is the identity.
        var z = x
        Elementwise.ropeAngles(position: 0, dims: headDim, base: 100_000, cos: &c, sin: &s)
        Elementwise.rope(&z, heads: heads, headDim: headDim, dims: headDim, cos: c, sin: s)
        #expect(z == x)
    }

    @Test("softmax sums to one and SwiGLU matches silu(g)·u")
    func softmaxAndSwiglu() {
        var x: [Float] = [1, 2, 3, -1e9, 0.5]
        Elementwise.softmax(&x, count: 5, scale: 0.5)
        #expect(close(x.reduce(0, +), 1, rel: 1e-6))
        #expect(x[3] == 0)
        let g: [Float] = [-3, 0, 2], u: [Float] = [1, 2, 3]
        var o = [Float](repeating: 0, count: 3)
        Elementwise.swiglu(gate: g, up: u, out: &o, count: 3)
        for i in 0..<3 { #expect(close(o[i], g[i] / (1 + exp(-g[i])) * u[i])) }
    }
}

@Suite("Attention, GEMM, thread pool, Tensor")
struct AttentionAndFriendsTests {
    @Test("attention over an f16 cache matches the Double reference (GQA 9:3)")
    func attention() {
        var rng = SeededRandom(seed: 9)
        let heads = 9, kvHeads = 3, headDim = 64, length = 23, kvStride = kvHeads * headDim
        let q = rng.floats(heads * headDim, in: -2...2)
        let k = rng.floats(length * kvStride, in: -2...2).map { Float16($0) }
        let v = rng.floats(length * kvStride, in: -2...2).map { Float16($0) }
        var out = [Float](repeating: 0, count: heads * headDim)
        var scores = [Float](repeating: 0, count: length)
        var qh = [Float16](repeating: 0, count: headDim)
        var lanes = [Float](repeating: 0, count: 64 * headDim)
        Attention.attend(query: q, keys: k, values: v, kvStride: kvStride, length: length, heads: heads, kvHeads: kvHeads,
                         headDim: headDim, scale: 0.125, out: &out, scores: &scores, queryHalf: &qh, accumulators: &lanes)
        let ref = Attention.reference(query: q, keys: k, values: v, kvStride: kvStride, length: length, heads: heads,
                                      kvHeads: kvHeads, headDim: headDim, scale: 0.125)
        for i in 0..<out.count { #expect(close(out[i], ref[i], rel: 1e-3, abs: 1e-3), "[\(i)] \(out[i]) vs \(ref[i])") }
    }

    @Test("paged attention: the C kernels equal the Swift kernel bit for bit",
          arguments: [AccumulationOrder.vector, .sequential])
    func pagedAttentionParity(order: AccumulationOrder) throws {
        guard SIMDKernels.detected >= .avx2 else {
            Issue.record("this CPU has no AVX2: the C attention path cannot be exercised here")
            return
        }
        var rng = SeededRandom(seed: 41)
        for (headDim, heads, kvHeads) in [(64, 9, 3), (32, 4, 4), (48, 6, 2), (128, 2, 1)] {
            for length in [1, 2, 15, 16, 17, 63, 64, 65, 130, 301] {
                // A shuffled page table of 16-position pages, rows padded beyond kvHeads·headDim.
                let pageSize = 16, rowStride = kvHeads * headDim + 16, pages = (length + pageSize - 1) / pageSize + 2
                var table = (0..<pages).map(Int32.init)
                for i in stride(from: table.count - 1, to: 0, by: -1) { table.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
                let pageStride = pageSize * rowStride
                let k = rng.floats(pages * pageStride, in: -2...2).map { Float16($0) }
                let v = rng.floats(pages * pageStride, in: -2...2).map { Float16($0) }
                let q = rng.floats(heads * headDim, in: -3...3)
                var outC = [Float](repeating: .nan, count: heads * headDim), outS = outC
                var scores = [Float](repeating: 0, count: length)
                var qh = [Float16](repeating: 0, count: headDim)
                var lanes = [Float](repeating: .nan, count: 64 * headDim)
                k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in table.withUnsafeBufferPointer { tp in
                    let kv = KVPages(base: kp.baseAddress!, pageTable: tp.baseAddress!, pageSize: pageSize,
                                     pageStride: pageStride, rowStride: rowStride)
                    let vv = KVPages(base: vp.baseAddress!, pageTable: tp.baseAddress!, pageSize: pageSize,
                                     pageStride: pageStride, rowStride: rowStride)
                    Attention.attendPaged(query: q, keys: kv, values: vv, length: length, heads: heads, kvHeads: kvHeads,
                                          headDim: headDim, scale: 0.125, out: &outC, scores: &scores, queryHalf: &qh,
                                          accumulators: &lanes, order: order)
                    Attention.attendPagedSwift(query: q, keys: kv, values: vv, length: length, heads: heads, kvHeads: kvHeads,
                                               headDim: headDim, scale: 0.125, out: &outS, scores: &scores, queryHalf: &qh,
                                               accumulators: &lanes, order: order)
                }}}
                let mismatches = (0..<outC.count).filter { outC[$0].bitPattern != outS[$0].bitPattern }
                #expect(mismatches.isEmpty, "headDim \(headDim), length \(length): \(mismatches.count) lanes differ, first \(mismatches.first.map { "\(outC[$0]) vs \(outS[$0])" } ?? "")")
            }
        }
    }

    @Test("OpenBLAS sgemm equals the naive triple loop", arguments: [false, true])
    func gemm(transposeB: Bool) {
        var rng = SeededRandom(seed: 10)
        let m = 7, n = 13, k = 29
        let a = rng.floats(m * k), b = rng.floats(k * n)
        var c = [Float](repeating: 0, count: m * n), r = c
        GEMM.sgemm(m: m, n: n, k: k, a: a, b: b, transposeB: transposeB, c: &c)
        GEMM.reference(m: m, n: n, k: k, a: a, b: b, transposeB: transposeB, c: &r)
        for i in 0..<(m * n) { #expect(close(c[i], r[i], rel: 1e-4, abs: 1e-5)) }
    }

    @Test("thread pool covers every index exactly once, repeatedly")
    func threadPool() {
        for threads in 1...4 {
            let pool = ThreadPool(threads: threads)
            for n in [0, 1, 7, 1000] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(n, 1))
                hits.initialize(repeating: 0, count: max(n, 1))
                for _ in 0..<3 {
                    pool.run { w in for i in ThreadPool.range(of: n, part: w, parts: threads) { hits[i] += 1 } }
                }
                for i in 0..<n { #expect(hits[i] == 3) }
                hits.deallocate()
            }
        }
    }

    @Test("Tensor: shape, transpose view, matmul, copy-on-write")
    func tensor() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let t = a.transposed(0, 1)
        #expect(t.shape == [3, 2] && !t.isContiguous)
        #expect(t.scalars == [1, 4, 2, 5, 3, 6])
        #expect(a.matmul(t).scalars == [14, 32, 32, 77])
        var b = a
        b[0, 0] = 100
        #expect(a[0, 0] == 1 && b[0, 0] == 100)
        #expect(a.reshaped([3, 2]).scalars == a.scalars)
    }
}
