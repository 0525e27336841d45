// SPDX-License-Identifier: Apache-2.0

import Kernels
import Tensors
import Testing

/// The AVX-512 panel kernels against the im2col and GEMM references they replace.
@Suite("Convolution panel kernels", .enabled(if: ConvolutionKernels.panelKernelsAvailable, "needs AVX-512"))
struct ConvPanelTests {
    /// Geometries with a partial last panel, strides, padding and dilation.
    static let geometries: [ConvGeometry] = [
        ConvGeometry(channels: 8, height: 17, width: 17, kernelH: 3, kernelW: 3, padding: (1, 1)),          // P = 289
        ConvGeometry(channels: 16, height: 32, width: 32, kernelH: 3, kernelW: 3, padding: (1, 1)),         // P = 1024
        ConvGeometry(channels: 7, height: 33, width: 20, kernelH: 3, kernelW: 3, stride: (2, 1), padding: (0, 1)),
        ConvGeometry(channels: 9, height: 21, width: 23, kernelH: 3, kernelW: 2, padding: (2, 2), dilation: (2, 3)),
        ConvGeometry(channels: 8, height: 32, width: 32, kernelH: 3, kernelW: 3, stride: (2, 2), padding: (1, 1)), // 16×16, stride 2
        ConvGeometry(channels: 8, height: 31, width: 33, kernelH: 3, kernelW: 3, stride: (1, 2), padding: (1, 2)),  // 31×17
        ConvGeometry(channels: 5, height: 20, width: 64, kernelH: 3, kernelW: 3, stride: (2, 2), padding: (0, 0)),  // 9×31
        ConvGeometry(channels: 4, height: 8, width: 16, kernelH: 1, kernelW: 5, padding: (0, 2)),                   // 8×16
    ]

    /// 64-byte aligned panels of `g`, filled with NaN (the layout's alignment contract), written by im2colPanels.
    static func panels(_ x: [Float], _ g: ConvGeometry, streaming: Bool = false) -> [Float] {
        let n = ConvolutionKernels.panelFloats(g)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)
        defer { raw.deallocate() }
        let p = raw.bindMemory(to: Float.self, capacity: n)
        p.initialize(repeating: .nan, count: n)
        ConvolutionKernels.im2colPanels(x, g, panels: p, streaming: streaming)
        return Array(UnsafeBufferPointer(start: p, count: n))
    }

    /// Column (r, t) of the panels.
    static func panelValue(_ panels: [Float], _ g: ConvGeometry, row r: Int, column t: Int) -> Float {
        panels[(t / 32) * g.columnRows * 32 + r * 32 + t % 32]
    }

    @Test(arguments: geometries, [false, true])
    func im2colPanelsMatchesIm2col(_ g: ConvGeometry, streaming: Bool) {
        let x = randomTensor([g.channels * g.height * g.width], seed: 31).scalars
        var col = [Float](repeating: .nan, count: g.columnRows * g.columnCols)
        ConvolutionKernels.im2col(x, g, col: &col, ld: g.columnCols, colOffset: 0)
        let panels = Self.panels(x, g, streaming: streaming)
        var mismatches = 0
        for r in 0..<g.columnRows {
            for t in 0..<((g.columnCols + 31) / 32 * 32) {
                let expected = t < g.columnCols ? col[r * g.columnCols + t] : 0  // tail lanes are zero
                if Self.panelValue(panels, g, row: r, column: t) != expected { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: [(5, false), (16, true), (20, false), (64, true), (70, false)])
    func forwardMatchesGEMM(_ t: (Int, Bool)) {
        let (m, accumulate) = t
        for g in Self.geometries {
            let (k, p) = (g.columnRows, g.columnCols)
            let x = randomTensor([g.channels * g.height * g.width], seed: 32).scalars
            let w = randomTensor([m * k], seed: 33).scalars          // [m, k]
            var wt = [Float](repeating: 0, count: k * m)             // [k, m]
            for o in 0..<m { for r in 0..<k { wt[r * m + o] = w[o * k + r] } }
            var col = [Float](repeating: 0, count: k * p)
            ConvolutionKernels.im2col(x, g, col: &col, ld: p, colOffset: 0)
            let panels = Self.panels(x, g)
            // C has a wider leading dimension than P, to check nothing is written past each row.
            let ldc = p + 3
            var fast = randomTensor([m * ldc], seed: 34).scalars, slow = fast
            ConvolutionKernels.forwardPanels(m: m, k: k, p: p, wt: wt, panels: panels, c: &fast, ldc: ldc, accumulate: accumulate)
            StridedGEMM.reference(transposeA: false, transposeB: false, m: m, n: p, k: k, a: w, lda: k, b: col, ldb: p,
                                  beta: accumulate ? 1 : 0, c: &slow, ldc: ldc)
            #expect(maxDifference(fast, slow) < 1e-3, "m \(m), geometry \(g)")
        }
    }

    @Test(arguments: [5, 16, 20, 48, 64, 70])
    func weightGradientMatchesGEMM(_ m: Int) {
        for g in Self.geometries {
            let (k, p) = (g.columnRows, g.columnCols)
            let m16 = (m + 15) / 16 * 16
            let x = randomTensor([g.channels * g.height * g.width], seed: 35).scalars
            let gy = randomTensor([m * p], seed: 36).scalars        // [m, p]
            var col = [Float](repeating: 0, count: k * p)
            ConvolutionKernels.im2col(x, g, col: &col, ld: p, colOffset: 0)
            let panels = Self.panels(x, g)
            let start = randomTensor([k * m16], seed: 37).scalars  // accumulates onto what is there
            var gwt = start
            var scratch = [Float](repeating: .nan, count: p * m16)
            ConvolutionKernels.weightGradientPanels(m: m, k: k, p: p, gy: gy, ldgy: p, panels: panels, gyt: &scratch, gwt: &gwt)
            var reference = [Float](repeating: 0, count: m * k)     // [m, k] = gy · colᵀ
            StridedGEMM.reference(transposeA: false, transposeB: true, m: m, n: k, k: p, a: gy, lda: p, b: col, ldb: p,
                                  c: &reference, ldc: k)
            var worst: Float = 0, padding = 0
            for r in 0..<k {
                for o in 0..<m16 {
                    if o < m {
                        worst = max(worst, abs(gwt[r * m16 + o] - start[r * m16 + o] - reference[o * k + r]))
                    } else if gwt[r * m16 + o] != start[r * m16 + o] {
                        padding += 1  // lanes past m are never written
                    }
                }
            }
            #expect(worst < 2e-3, "m \(m), geometry \(g)")
            #expect(padding == 0)
        }
    }

    /// Through the tensor ops: the panel path (K ≥ 64, P ≥ 256) against the direct reference
    /// convolution, and its weight gradient from kept panels against the recomputed one and the adjoint identity.
    @Test(arguments: [(Conv2DOptions(padding: 1), 1), (Conv2DOptions(stride: 2, padding: 1), 1), (Conv2DOptions(padding: 1, groups: 2), 2)])
    func tensorPathParity(_ t: (Conv2DOptions, Int)) {
        let (o, groups) = t
        let (n, c, oc, size) = (3, 16, 24, o.stride.0 == 2 ? 34 : 18)
        let x = randomTensor([n, c, size, size], seed: 38), w = randomTensor([oc, c / groups, 3, 3], seed: 39)
        let b = randomTensor([oc], seed: 40)
        let (y, kept) = Tensor.conv2dKeepingColumns(x, w, bias: b, o, keepColumns: true)
        #expect(kept?.rank == 5)  // the panel layout was used
        let cg = c / groups, ocg = oc / groups
        let g = ConvGeometry(channels: cg, height: size, width: size, kernelH: 3, kernelW: 3, stride: o.stride, padding: o.padding)
        let per = g.columnCols
        var reference = [Float](repeating: 0, count: y.count)
        for i in 0..<n {
            for grp in 0..<groups {
                let xs = x.sliced(alongAxis: 0, i..<(i + 1)).sliced(alongAxis: 1, (grp * cg)..<((grp + 1) * cg)).scalars
                let ws = w.sliced(alongAxis: 0, (grp * ocg)..<((grp + 1) * ocg)).scalars
                var part = [Float](repeating: 0, count: ocg * per)
                part.withUnsafeMutableBufferPointer { ConvolutionKernels.referenceConv(xs, ws, outChannels: ocg, g, y: $0.baseAddress!) }
                for q in 0..<ocg { for s in 0..<per { reference[(i * oc + grp * ocg + q) * per + s] = part[q * per + s] + b.scalars[grp * ocg + q] } }
            }
        }
        #expect(maxDifference(y.scalars, reference) < 1e-3)
        let gy = randomTensor(y.shape, seed: 41)
        let fromKept = Tensor.conv2dWeightGradient(x, gy, weightShape: w.shape, o, columns: kept)
        let recomputed = Tensor.conv2dWeightGradient(x, gy, weightShape: w.shape, o)
        #expect(maxDifference(fromKept.scalars, recomputed.scalars) < 1e-4)
        let yb = Tensor.conv2d(x, w, o)
        let lhs = (yb * gy).sum().scalar
        let viaWeight = (w * recomputed).sum().scalar
        let viaInput = (x * Tensor.conv2dInputGradient(gy, w, inputShape: x.shape, o)).sum().scalar
        #expect(abs(lhs - viaWeight) < 1e-3 * max(1, abs(lhs)))
        #expect(abs(lhs - viaInput) < 1e-3 * max(1, abs(lhs)))
    }
}
