// SPDX-License-Identifier: Apache-2.0

import Support
import Kernels
import Tensors
import Testing

func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor {
    var g = SeededRandom(seed: seed)
    return Tensor.normal(shape, generator: &g)
}

func maxDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

@Suite("Tensor kernels against naive references")
struct TensorKernelTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
    func stridedGEMM(_ t: (Bool, Bool)) {
        let (m, n, k) = (5, 7, 9)
        let a = randomTensor([m * k], seed: 1).scalars, b = randomTensor([k * n], seed: 2).scalars
        var fast = randomTensor([m * n], seed: 3).scalars, slow = fast
        StridedGEMM.sgemm(transposeA: t.0, transposeB: t.1, m: m, n: n, k: k, alpha: 0.5, a: a, lda: t.0 ? m : k,
                          b: b, ldb: t.1 ? k : n, beta: 2, c: &fast, ldc: n)
        StridedGEMM.reference(transposeA: t.0, transposeB: t.1, m: m, n: n, k: k, alpha: 0.5, a: a, lda: t.0 ? m : k,
                              b: b, ldb: t.1 ? k : n, beta: 2, c: &slow, ldc: n)
        #expect(maxDifference(fast, slow) < 1e-4)
    }

    @Test(arguments: [
        Conv2DOptions(), Conv2DOptions(stride: 2, padding: 1), Conv2DOptions(stride: 1, padding: 2, dilation: 2),
        Conv2DOptions(stride: (2, 1), padding: (0, 1)),
    ])
    func convolutionParity(_ o: Conv2DOptions) {
        let x = randomTensor([3, 4, 9, 8], seed: 4), w = randomTensor([5, 4, 3, 3], seed: 5)
        let y = Tensor.conv2d(x, w, o)
        let g = ConvGeometry(channels: 4, height: 9, width: 8, kernelH: 3, kernelW: 3, stride: o.stride, padding: o.padding, dilation: o.dilation)
        #expect(y.shape == [3, 5, g.outputH, g.outputW])
        var reference = [Float](repeating: 0, count: y.count)
        let xs = x.scalars, ws = w.scalars
        let per = 5 * g.outputH * g.outputW
        for i in 0..<3 {
            xs.withUnsafeBufferPointer { px in
                reference.withUnsafeMutableBufferPointer { pr in
                    ConvolutionKernels.referenceConv(px.baseAddress! + i * 4 * 9 * 8, ws, outChannels: 5, g, y: pr.baseAddress! + i * per)
                }
            }
        }
        #expect(maxDifference(y.scalars, reference) < 1e-4)
    }

    /// Both layouts (one GEMM per image when OH·OW ≥ 256, one batched GEMM over narrow images),
    /// few and many output channels, with and without bias.
    @Test(arguments: [(5, 16, 17, false), (5, 16, 17, true), (130, 16, 17, true), (130, 6, 7, false), (7, 6, 7, true)])
    func convolutionPathsParity(_ shape: (Int, Int, Int, Bool)) {
        let (oc, h, w, withBias) = shape
        let o = Conv2DOptions(padding: 1)
        let x = randomTensor([2, 3, h, w], seed: 14), wt = randomTensor([oc, 3, 3, 3], seed: 15)
        let bias = withBias ? randomTensor([oc], seed: 16) : nil
        let y = Tensor.conv2d(x, wt, bias: bias, o)
        let g = ConvGeometry(channels: 3, height: h, width: w, kernelH: 3, kernelW: 3, padding: (1, 1))
        var reference = [Float](repeating: 0, count: y.count)
        let per = oc * g.outputH * g.outputW
        for i in 0..<2 {
            x.scalars.withUnsafeBufferPointer { px in
                reference.withUnsafeMutableBufferPointer { pr in
                    ConvolutionKernels.referenceConv(px.baseAddress! + i * 3 * h * w, wt.scalars, outChannels: oc, g, y: pr.baseAddress! + i * per)
                }
            }
        }
        if let b = bias?.scalars {
            for t in reference.indices { reference[t] += b[(t / (g.outputH * g.outputW)) % oc] }
        }
        #expect(maxDifference(y.scalars, reference) < 1e-4)
    }

    @Test func groupedConvolutionIsPerGroupConvolution() {
        let x = randomTensor([2, 4, 5, 5], seed: 6), w = randomTensor([6, 2, 3, 3], seed: 7)
        let y = Tensor.conv2d(x, w, Conv2DOptions(padding: 1, groups: 2))
        for grp in 0..<2 {
            let part = Tensor.conv2d(x.sliced(alongAxis: 1, (2 * grp)..<(2 * grp + 2)), w.sliced(alongAxis: 0, (3 * grp)..<(3 * grp + 3)), Conv2DOptions(padding: 1))
            #expect(maxDifference(y.sliced(alongAxis: 1, (3 * grp)..<(3 * grp + 3)).scalars, part.scalars) < 1e-5)
        }
    }

    @Test func convolutionAdjoints() {
        // ⟨conv(x, w), g⟩ = ⟨x, convᵀ(g, w)⟩ = ⟨w, ∇w(x, g)⟩.
        let o = Conv2DOptions(stride: 2, padding: 1, dilation: 1, groups: 2)
        let x = randomTensor([2, 4, 7, 6], seed: 8), w = randomTensor([6, 2, 3, 3], seed: 9)
        let y = Tensor.conv2d(x, w, o)
        let g = randomTensor(y.shape, seed: 10)
        let lhs = (y * g).sum().scalar
        let viaInput = (x * Tensor.conv2dInputGradient(g, w, inputShape: x.shape, o)).sum().scalar
        let viaWeight = (w * Tensor.conv2dWeightGradient(x, g, weightShape: w.shape, o)).sum().scalar
        #expect(abs(lhs - viaInput) < 1e-3 * max(1, abs(lhs)))
        #expect(abs(lhs - viaWeight) < 1e-3 * max(1, abs(lhs)))
        // Columns kept by the forward pass give the same weight gradient.
        let (y2, columns) = Tensor.conv2dKeepingColumns(x, w, o, keepColumns: true)
        #expect(y2 == y && columns != nil)
        let kept = Tensor.conv2dWeightGradient(x, g, weightShape: w.shape, o, columns: columns)
        #expect(maxDifference(kept.scalars, Tensor.conv2dWeightGradient(x, g, weightShape: w.shape, o).scalars) < 1e-4)
    }

    /// Outputs of at least 256 pixels take the one-GEMM-per-image paths (threaded over images).
    @Test(arguments: [
        (Conv2DOptions(padding: 1), 3, 18), (Conv2DOptions(padding: 1, groups: 2), 3, 18),
        (Conv2DOptions(), 1, 17), (Conv2DOptions(stride: 2, padding: 1), 3, 36),
    ])
    func perImageConvolutionPaths(_ t: (Conv2DOptions, Int, Int)) {
        let (o, kernel, size) = t
        let x = randomTensor([5, 4, size, size], seed: 12), w = randomTensor([6, 4 / o.groups, kernel, kernel], seed: 13)
        let b = randomTensor([6], seed: 14)
        let y = Tensor.conv2d(x, w, bias: b, o)
        #expect(y.shape[2] * y.shape[3] >= 256)
        let g = randomTensor(y.shape, seed: 15)
        // Reference: per-group direct convolution plus bias.
        let cg = 4 / o.groups, ocg = 6 / o.groups
        let geometry = ConvGeometry(channels: cg, height: size, width: size, kernelH: kernel, kernelW: kernel,
                                    stride: o.stride, padding: o.padding, dilation: o.dilation)
        var reference = [Float](repeating: 0, count: y.count)
        let per = geometry.outputH * geometry.outputW
        for i in 0..<5 {
            for grp in 0..<o.groups {
                let xs = x.sliced(alongAxis: 0, i..<(i + 1)).sliced(alongAxis: 1, (grp * cg)..<((grp + 1) * cg)).scalars
                let ws = w.sliced(alongAxis: 0, (grp * ocg)..<((grp + 1) * ocg)).scalars
                var part = [Float](repeating: 0, count: ocg * per)
                part.withUnsafeMutableBufferPointer { pp in
                    ConvolutionKernels.referenceConv(xs, ws, outChannels: ocg, geometry, y: pp.baseAddress!)
                }
                for q in 0..<ocg {
                    for t in 0..<per { reference[((i * 6) + grp * ocg + q) * per + t] = part[q * per + t] + b.scalars[grp * ocg + q] }
                }
            }
        }
        #expect(maxDifference(y.scalars, reference) < 1e-4)
        let yb = Tensor.conv2d(x, w, o)
        let lhs = (yb * g).sum().scalar
        let viaInput = (x * Tensor.conv2dInputGradient(g, w, inputShape: x.shape, o)).sum().scalar
        let viaWeight = (w * Tensor.conv2dWeightGradient(x, g, weightShape: w.shape, o)).sum().scalar
        #expect(abs(lhs - viaInput) < 1e-3 * max(1, abs(lhs)))
        #expect(abs(lhs - viaWeight) < 1e-3 * max(1, abs(lhs)))
    }

    @Test func broadcastingAndReductions() {
        let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let col = Tensor(shape: [2, 1], scalars: [10, 20]), row = Tensor(shape: [3], scalars: [1, 0, -1])
        #expect((a + col).scalars == [11, 12, 13, 24, 25, 26])
        #expect((a * row).scalars == [1, 0, -3, 4, 0, -6])
        #expect((col - row).shape == [2, 3])
        #expect(a.sum(alongAxes: [0]).scalars == [5, 7, 9])
        #expect(a.sum(alongAxes: [1], keepingDimensions: true).scalars == [6, 15])
        #expect(a.summed(toShape: [1, 3]).scalars == [5, 7, 9])
        #expect(row.broadcasted(to: [2, 3]).scalars == [1, 0, -1, 1, 0, -1])
        #expect(a.max(alongAxis: 1).values.scalars == [3, 6])
        #expect(a.sum().scalar == 21)
        #expect(a.permuted([1, 0]).scalars == [1, 4, 2, 5, 3, 6])
        let big = randomTensor([300, 257], seed: 11)  // large enough to run on the thread pool
        let s = big.sum(alongAxes: [1]).scalars
        let bs = big.scalars
        for r in [0, 150, 299] {
            let ref = (0..<257).reduce(Float(0)) { $0 + bs[r * 257 + $1] }
            #expect(abs(s[r] - ref) < 1e-3)
        }
        #expect(maxDifference((big + big).scalars, big.scalars.map { 2 * $0 }) == 0)
    }

    @Test func pointwiseFunctionsMatchLibm() {
        let x = Tensor(shape: [41], scalars: (0..<41).map { Float($0) * 0.25 - 5 })
        let xs = x.scalars.map(Double.init)
        func expectClose(_ f: UnaryFunction, _ ref: (Double) -> Double, tolerance: Double = 2e-6) {
            let got = x.map(f).scalars
            for (g, v) in zip(got, xs) { #expect(abs(Double(g) - ref(v)) <= tolerance * max(1, abs(ref(v))), "\(f) at \(v)") }
        }
        expectClose(.exp, { Foundation.exp($0) })
        expectClose(.sigmoid, { 1 / (1 + Foundation.exp(-$0)) })
        expectClose(.tanh, { Foundation.tanh($0) }, tolerance: 1e-6)
        expectClose(.silu, { $0 / (1 + Foundation.exp(-$0)) })
        expectClose(.gelu, { 0.5 * $0 * (1 + Foundation.erf($0 / 2.0.squareRoot())) })
        expectClose(.softplus, { Foundation.log(1 + Foundation.exp($0)) })
        let sm = Tensor(shape: [2, 3], scalars: [1, 2, 3, 0, 0, -Float.infinity]).softmaxLastAxis().scalars
        #expect(maxDifference(sm, [0.09003057, 0.24472847, 0.66524096, 0.5, 0.5, 0]) < 1e-6)
    }

    @Test func trainingMathAgainstLibm() {
        var worstExp = 0.0, worstErf = 0.0
        for i in 0..<4000 {
            let x = Float(i) * 0.0435 - 87
            let e = Double(TrainingMath.exp(x)), ref = Foundation.exp(Double(x))
            worstExp = max(worstExp, abs(e - ref) / ref)
            let v = Float(i) * 0.002 - 4
            worstErf = max(worstErf, abs(Double(TrainingMath.erf(SIMD8(repeating: v))[0]) - Foundation.erf(Double(v))))
        }
        #expect(worstExp < 1e-6 && worstErf < 5e-7, "exp \(worstExp), erf \(worstErf)")
        #expect(TrainingMath.exp(-Float.infinity) == 0 && TrainingMath.exp(-100) == 0 && TrainingMath.exp(100) == .infinity)
        #expect(TrainingMath.exp(0) == 1)
    }

    @Test func bufferPoolReusesMemory() {
        let before = BufferPool.statistics.hits
        for _ in 0..<10 { _ = Tensor(shape: [12345], repeating: 1) + Tensor(shape: [12345], repeating: 2) }
        #expect(BufferPool.statistics.hits - before >= 20)
    }

    @Test func valueSemantics() {
        let a = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        var b = a.reshaped([4])
        b[1] = 9
        #expect(a.scalars == [1, 2, 3, 4] && b.scalars == [1, 9, 3, 4])
        var c = a
        c.addScaled(a, 2)
        #expect(a.scalars == [1, 2, 3, 4] && c.scalars == [3, 6, 9, 12])
    }
}

import Foundation

@Suite("Tensor kernels on an injected pool")
struct InjectedPoolTests {
    @Test("a large product and an element-wise loop give the same results on 1 and 3 threads")
    func sameResults() {
        let m = 96, n = 80, k = 64  // above the split threshold
        let a = (0..<(m * k)).map { Float(($0 * 37) % 101) / 101 - 0.5 }
        let b = (0..<(k * n)).map { Float(($0 * 53) % 97) / 97 - 0.5 }
        func product() -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        Parallel.sgemm(transposeA: false, transposeB: false, m: m, n: n, k: k,
                                       a: pa.baseAddress!, lda: k, b: pb.baseAddress!, ldb: n, c: pc.baseAddress!, ldc: n)
                    }
                }
            }
            return c
        }
        func squares() -> [Float] {
            var out = [Float](repeating: 0, count: 200_000)
            out.withUnsafeMutableBufferPointer { p in
                Parallel.forEach(count: p.count, grain: 10_000) { r in for i in r { p[i] = Float(i % 1000) * Float(i % 1000) } }
            }
            return out
        }
        #expect(Parallel.threadCount == 1)
        let single = product(), singleSquares = squares()
        let pool = ThreadPool(threads: 3)
        let (threaded, threadedSquares) = pool.withCurrent {
            #expect(Parallel.threadCount == 3)
            return (product(), squares())
        }
        #expect(zip(single, threaded).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($0)) })
        #expect(singleSquares == threadedSquares)
    }
}
