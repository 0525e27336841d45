// SPDX-License-Identifier: Apache-2.0

public import Kernels

/// Hyperparameters of a 2-D convolution (PyTorch semantics).
public struct Conv2DOptions: Sendable, Equatable {
    public var stride: (Int, Int)
    public var padding: (Int, Int)
    public var dilation: (Int, Int)
    public var groups: Int

    public init(stride: Int = 1, padding: Int = 0, dilation: Int = 1, groups: Int = 1) {
        self.stride = (stride, stride); self.padding = (padding, padding)
        self.dilation = (dilation, dilation); self.groups = groups
    }

    public init(stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int) = (1, 1), groups: Int = 1) {
        self.stride = stride; self.padding = padding; self.dilation = dilation; self.groups = groups
    }

    public static func == (a: Conv2DOptions, b: Conv2DOptions) -> Bool {
        a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation && a.groups == b.groups
    }

    /// Geometry of one group of one image.
    func geometry(input: [Int], kernel: [Int]) -> ConvGeometry {
        ConvGeometry(channels: input[1] / groups, height: input[2], width: input[3],
                     kernelH: kernel[2], kernelW: kernel[3], stride: stride, padding: padding, dilation: dilation)
    }
}

/// Scratch buffers for im2col columns, drawn from ``BufferPool`` (so reused across calls and
/// safe when several threads convolve at once).
struct ColumnScratch {
    private var held: [Tensor] = []
    mutating func columns(_ n: Int) -> UnsafeMutablePointer<Float> { buffer(n) }
    mutating func aux(_ n: Int) -> UnsafeMutablePointer<Float> { buffer(n) }
    private mutating func buffer(_ n: Int) -> UnsafeMutablePointer<Float> {
        let t = Tensor(uninitializedShape: [n])
        held.append(t)
        return t.storage.base
    }
}

extension Tensor {
    /// Images per GEMM: enough to make the GEMM wide, few enough that the columns stay ~16 MB.
    static func convChunk(batch: Int, columnsPerImage: Int) -> Int {
        Swift.max(1, Swift.min(batch, (4 << 20) / Swift.max(columnsPerImage, 1)))
    }

    /// True when each image's output is wide enough (`OH·OW ≥ 256`) for one GEMM per image written
    /// straight into the `[N, C, H, W]` result; narrower outputs are batched into one wide GEMM per
    /// chunk of images and copied out.
    static func convPerImage(_ g: ConvGeometry) -> Bool { g.columnCols >= 256 }

    /// True when the column matrix of an image is the image itself (1×1, stride 1, no padding).
    static func convIsPointwise(_ g: ConvGeometry) -> Bool {
        g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 && g.padH == 0 && g.padW == 0
    }

    /// 2-D convolution: `x [N, C, H, W]`, `w [OC, C/groups, kH, kW]`, optional `bias [OC]` →
    /// `[N, OC, OH, OW]` (im2col + GEMM).
    public static func conv2d(_ x: Tensor, _ w: Tensor, bias: Tensor? = nil, _ o: Conv2DOptions) -> Tensor {
        conv2dKeepingColumns(x, w, bias: bias, o, keepColumns: false).output
    }

    /// The most column elements kept for the weight gradient (64 MiB).
    static let maxKeptColumns = 16 << 20

    /// ``conv2d(_:_:bias:_:)`` that can also return the im2col columns of the whole batch
    /// (`[groups, K, N·P]`), so the weight gradient need not unfold the input again. Columns are
    /// kept only when asked, when the kernel is not pointwise, and when they fit in 64 MiB.
    public static func conv2dKeepingColumns(_ x: Tensor, _ w: Tensor, bias: Tensor? = nil, _ o: Conv2DOptions,
                                            keepColumns: Bool) -> (output: Tensor, columns: Tensor?) {
        precondition(x.rank == 4 && w.rank == 4 && x.shape[1] == w.shape[1] * o.groups && w.shape[0] % o.groups == 0,
                     "conv2d: input \(x.shape), weight \(w.shape), groups \(o.groups)")
        let g = o.geometry(input: x.shape, kernel: w.shape)
        let n = x.shape[0], oc = w.shape[0], ocg = oc / o.groups
        let p = g.columnCols, k = g.columnRows
        let perImage = convPerImage(g), pointwise = convIsPointwise(g)
        if usePanels(g) {
            return conv2dPanels(x, w, bias: bias, o, g, keepColumns: keepColumns)
        }
        var y = Tensor(uninitializedShape: [n, oc, g.outputH, g.outputW])
        let py = y.storage.base
        let keep = keepColumns && !pointwise && o.groups * k * n * p <= maxKeptColumns
        let chunk = pointwise ? 1 : (keep ? n : convChunk(batch: n, columnsPerImage: k * p))
        var scratch = ColumnScratch()
        let kept = keep ? Tensor(uninitializedShape: [o.groups, k, n * p]) : nil
        let col = keep ? kept!.storage.base : (pointwise ? nil : scratch.columns(k * chunk * p))  // [K, chunk·P] per group
        let out = perImage ? nil : scratch.aux(ocg * chunk * p)     // [OCg, chunk·P]
        let biasValues = bias?.scalars
        x.withUnsafeBufferPointer { px in
            w.withUnsafeBufferPointer { pw in
                let xImage = x.shape[1] * g.height * g.width
                let groupInput = g.channels * g.height * g.width
                forEachConvChunk(px.baseAddress!, imageSize: xImage, g, batch: n, chunk: chunk, groups: o.groups, col: col,
                                 wholeBatch: keep, unfold: true) { start, c, grp, col in
                    let weights = pw.baseAddress! + grp * ocg * k
                    if perImage {
                        Parallel.forEachPart(count: c) { _, images in
                            for i in images {
                                let dst = py + ((start + i) * oc + grp * ocg) * p  // [OCg, P]
                                if let biasValues {
                                    for q in 0..<ocg { (dst + q * p).update(repeating: biasValues[grp * ocg + q], count: p) }
                                }
                                let b = col.map { UnsafePointer($0 + i * p) } ?? (px.baseAddress! + (start + i) * xImage + grp * groupInput)
                                StridedGEMM.sgemm(transposeA: false, transposeB: false, m: ocg, n: p, k: k, a: weights, lda: k,
                                                  b: b, ldb: col == nil ? p : c * p, beta: biasValues == nil ? 0 : 1, c: dst, ldc: p)
                            }
                        }
                    } else {
                        let bcol = col.map { UnsafePointer($0) } ?? (px.baseAddress! + start * xImage + grp * groupInput)
                        Parallel.sgemm(transposeA: false, transposeB: false, m: ocg, n: c * p, k: k,
                                          a: weights, lda: k, b: bcol, ldb: c * p, c: out!, ldc: c * p)
                        // [OCg, c·P] -> y[start + i, grp·OCg + q, P]
                        for i in 0..<c {
                            for q in 0..<ocg {
                                let dst = py + ((start + i) * oc + grp * ocg + q) * p
                                let src = out! + q * c * p + i * p
                                if let biasValues {
                                    let bv = biasValues[grp * ocg + q]
                                    for t in 0..<p { dst[t] = src[t] + bv }
                                } else {
                                    dst.update(from: src, count: p)
                                }
                            }
                        }
                    }
                }
            }
        }
        withExtendedLifetime(scratch) {}
        return (y, kept)
    }

    /// The walk the forward pass and the weight gradient share: the batch in chunks of `chunk`
    /// images, each chunk group by group, calling `body(start, count, group, columns)`. `col` (nil
    /// for pointwise kernels, which read the images directly) holds the chunk's columns of the
    /// group, `[K, count·P]`; with `wholeBatch` it holds all N images' columns of every group
    /// (`[groups, K, N·P]`, as kept by the forward pass) and `body` gets the group's slice. With
    /// `unfold` the images are unfolded into it first (in parallel, one image a task).
    @inline(__always)
    static func forEachConvChunk(_ px: UnsafePointer<Float>, imageSize: Int, _ g: ConvGeometry, batch n: Int, chunk: Int, groups: Int,
                                 col: UnsafeMutablePointer<Float>?, wholeBatch: Bool, unfold: Bool,
                                 _ body: (_ start: Int, _ count: Int, _ group: Int, _ col: UnsafeMutablePointer<Float>?) -> Void) {
        let p = g.columnCols, k = g.columnRows, groupInput = g.channels * g.height * g.width
        var start = 0
        while start < n {
            let c = Swift.min(chunk, n - start)
            for grp in 0..<groups {
                let col = col.map { wholeBatch ? $0 + grp * k * n * p : $0 }
                if let col, unfold {
                    Parallel.forEach(count: c, grain: 1) { r in
                        for i in r {
                            ConvolutionKernels.im2col(px + (start + i) * imageSize + grp * groupInput, g, col: col, ld: c * p, colOffset: i * p)
                        }
                    }
                }
                body(start, c, grp, col)
            }
            start += c
        }
    }

    /// True when the convolution runs on the AVX-512 panel kernels (one product per image): at
    /// least two panels of output pixels, a kernel that needs columns, and at least 64 column rows
    /// (below that, as for a first layer's 1–3 input channels, OpenBLAS measured faster), on a CPU that has them.
    static func usePanels(_ g: ConvGeometry) -> Bool {
        ConvolutionKernels.panelKernelsAvailable && g.columnCols >= 64 && !convIsPointwise(g) && g.columnRows >= 64
    }

    /// The panel path of ``conv2dKeepingColumns(_:_:bias:_:keepColumns:)``: per image (split across
    /// threads), im2col into panels and one forward kernel call per group. Kept columns are the
    /// panels of the whole batch, `[groups, N, ceil(P/32), K, 32]` (rank 5 marks the layout).
    private static func conv2dPanels(_ x: Tensor, _ w: Tensor, bias: Tensor?, _ o: Conv2DOptions, _ g: ConvGeometry,
                                     keepColumns: Bool) -> (output: Tensor, columns: Tensor?) {
        let n = x.shape[0], oc = w.shape[0], ocg = oc / o.groups
        let p = g.columnCols, k = g.columnRows
        let panelFloats = ConvolutionKernels.panelFloats(g)
        var y = Tensor(uninitializedShape: [n, oc, g.outputH, g.outputW])
        let py = y.storage.base
        // wt[grp, r, q] = w[grp·OCg + q, r]: the broadcast operand, contiguous per column r.
        var wt = Tensor(uninitializedShape: [o.groups, k, ocg])
        let pwt = wt.storage.base
        w.withUnsafeBufferPointer { pw in
            for grp in 0..<o.groups {
                for q in 0..<ocg {
                    for r in 0..<k { pwt[(grp * k + r) * ocg + q] = pw[(grp * ocg + q) * k + r] }
                }
            }
        }
        let keep = keepColumns && o.groups * n * panelFloats <= maxKeptColumns
        let kept = keep ? Tensor(uninitializedShape: [o.groups, n, (p + 31) / 32, k, 32]) : nil
        let parts = Parallel.partCount(n)
        var scratch = ColumnScratch()
        let own = keep ? nil : scratch.columns(parts * panelFloats)  // [parts, panelFloats]
        let biasValues = bias?.scalars
        x.withUnsafeBufferPointer { px in
            let xImage = x.shape[1] * g.height * g.width
            let groupInput = g.channels * g.height * g.width
            Parallel.forEachPart(count: n) { part, images in
                for i in images {
                    for grp in 0..<o.groups {
                        let panels = keep ? kept!.storage.base + (grp * n + i) * panelFloats : own! + part * panelFloats
                        ConvolutionKernels.im2colPanels(px.baseAddress! + i * xImage + grp * groupInput, g, panels: panels, streaming: keep)
                        let dst = py + (i * oc + grp * ocg) * p  // [OCg, P]
                        if let biasValues {
                            for q in 0..<ocg { (dst + q * p).update(repeating: biasValues[grp * ocg + q], count: p) }
                        }
                        ConvolutionKernels.forwardPanels(m: ocg, k: k, p: p, wt: pwt + grp * k * ocg, panels: panels,
                                                         c: dst, ldc: p, accumulate: biasValues != nil)
                    }
                }
            }
        }
        withExtendedLifetime((scratch, wt)) {}
        return (y, kept)
    }

    /// The panel path of ``conv2dWeightGradient(_:_:weightShape:_:columns:)``: per image, the
    /// transposed gradient accumulates into one `[groups, K, OCg16]` partial per thread.
    private static func conv2dWeightGradientPanels(_ x: Tensor, _ gy: Tensor, weightShape: [Int], _ o: Conv2DOptions,
                                                   _ g: ConvGeometry, panels given: Tensor?) -> Tensor {
        let n = x.shape[0], oc = weightShape[0], ocg = oc / o.groups
        let p = g.columnCols, k = g.columnRows
        let m16 = (ocg + 15) / 16 * 16
        let panelFloats = ConvolutionKernels.panelFloats(g)
        let parts = Parallel.partCount(n)
        let partials = Tensor(shape: [parts, o.groups, k, m16], repeating: 0)
        let pp = partials.storage.base
        var scratch = ColumnScratch()
        let gyt = scratch.aux(parts * p * m16)                                   // [parts, P, OCg16]
        let own = given == nil ? scratch.columns(parts * panelFloats) : nil     // [parts, panelFloats]
        let kept = given.map { UnsafePointer($0.storage.base + $0.offset) }
        x.withUnsafeBufferPointer { px in
            gy.withUnsafeBufferPointer { pg in
                let xImage = x.shape[1] * g.height * g.width
                let groupInput = g.channels * g.height * g.width
                Parallel.forEachPart(count: n) { part, images in
                    for i in images {
                        for grp in 0..<o.groups {
                            let panels: UnsafePointer<Float>
                            if let kept {
                                panels = kept + (grp * n + i) * panelFloats
                            } else {
                                let mine = own! + part * panelFloats
                                ConvolutionKernels.im2colPanels(px.baseAddress! + i * xImage + grp * groupInput, g, panels: mine)
                                panels = UnsafePointer(mine)
                            }
                            ConvolutionKernels.weightGradientPanels(
                                m: ocg, k: k, p: p, gy: pg.baseAddress! + (i * oc + grp * ocg) * p, ldgy: p, panels: panels,
                                gyt: gyt + part * p * m16, gwt: pp + (part * o.groups + grp) * k * m16)
                        }
                    }
                }
            }
        }
        // gw[grp·OCg + q, r] = Σ_part partials[part, grp, r, q]
        var gw = Tensor(uninitializedShape: weightShape)
        let pgw = gw.storage.base
        for grp in 0..<o.groups {
            for q in 0..<ocg {
                for r in 0..<k {
                    var s: Float = 0
                    for part in 0..<parts { s += pp[((part * o.groups + grp) * k + r) * m16 + q] }
                    pgw[(grp * ocg + q) * k + r] = s
                }
            }
        }
        withExtendedLifetime((scratch, partials, given)) {}
        return gw
    }

    /// Gradient of ``conv2d(_:_:bias:_:)`` with respect to its input, which is also the transposed
    /// convolution of `gy [N, OC, OH, OW]` with `w [OC, C/groups, kH, kW]` → `[N, C, H, W]`.
    public static func conv2dInputGradient(_ gy: Tensor, _ w: Tensor, inputShape: [Int], _ o: Conv2DOptions) -> Tensor {
        let g = o.geometry(input: inputShape, kernel: w.shape)
        let n = inputShape[0], oc = w.shape[0], ocg = oc / o.groups
        precondition(gy.shape == [n, oc, g.outputH, g.outputW], "conv2dInputGradient: \(gy.shape) for input \(inputShape), weight \(w.shape)")
        let p = g.columnCols, k = g.columnRows
        let pointwise = convIsPointwise(g), perImage = convPerImage(g) || pointwise
        let padH = g.dilationH * (g.kernelH - 1) - g.padH, padW = g.dilationW * (g.kernelW - 1) - g.padW
        if !pointwise && o.groups == 1 && g.strideH == 1 && g.strideW == 1 && padH >= 0 && padW >= 0 {
            // Stride 1: the input gradient is a convolution of gy with the spatially flipped,
            // channel-transposed kernel; its im2col copies rows where col2im would accumulate.
            let (kh, kw) = (g.kernelH, g.kernelW)
            var flipped = Tensor(uninitializedShape: [w.shape[1], oc, kh, kw])  // [C, OC, kH, kW]
            let pf = flipped.storage.base
            w.withUnsafeBufferPointer { pw in
                for q in 0..<oc {
                    for ch in 0..<w.shape[1] {
                        for i in 0..<kh {
                            for j in 0..<kw {
                                pf[((ch * oc + q) * kh + i) * kw + j] = pw[((q * w.shape[1] + ch) * kh + (kh - 1 - i)) * kw + (kw - 1 - j)]
                            }
                        }
                    }
                }
            }
            return conv2d(gy, flipped, Conv2DOptions(stride: (1, 1), padding: (padH, padW), dilation: o.dilation))
        }
        var gx = Tensor(shape: inputShape, repeating: 0)
        let pgx = gx.storage.base
        let chunk = perImage ? 1 : convChunk(batch: n, columnsPerImage: k * p)
        var scratch = ColumnScratch()
        let parts = Parallel.partCount(n)
        let col = pointwise ? nil : scratch.columns(k * (perImage ? parts : chunk) * p)  // per part when per image
        let gyc = perImage ? nil : scratch.aux(ocg * chunk * p)
        gy.withUnsafeBufferPointer { pg in
            w.withUnsafeBufferPointer { pw in
                let xImage = inputShape[1] * g.height * g.width
                let groupInput = g.channels * g.height * g.width
                if perImage {
                    // One image per step on each thread: W_gᵀ · gy_i into the thread's columns, then col2im.
                    Parallel.forEachPart(count: n) { part, images in
                        let mine = col.map { $0 + part * k * p }
                        for i in images {
                            for grp in 0..<o.groups {
                                let weights = pw.baseAddress! + grp * ocg * k
                                let src = pg.baseAddress! + (i * oc + grp * ocg) * p  // [OCg, P]
                                let dst = pgx + i * xImage + grp * groupInput
                                if let mine {
                                    StridedGEMM.sgemm(transposeA: true, transposeB: false, m: k, n: p, k: ocg, a: weights, lda: k,
                                                      b: src, ldb: p, c: mine, ldc: p)
                                    ConvolutionKernels.col2im(mine, ld: p, colOffset: 0, g, into: dst)
                                } else {
                                    // Pointwise: the column gradient is the input gradient.
                                    StridedGEMM.sgemm(transposeA: true, transposeB: false, m: k, n: p, k: ocg, a: weights, lda: k,
                                                      b: src, ldb: p, c: dst, ldc: p)
                                }
                            }
                        }
                    }
                    return
                }
                var start = 0
                while start < n {
                    let c = Swift.min(chunk, n - start)
                    for grp in 0..<o.groups {
                        let weights = pw.baseAddress! + grp * ocg * k
                        if perImage {
                            let src = pg.baseAddress! + (start * oc + grp * ocg) * p  // [OCg, P]
                            if col == nil {
                                // Pointwise: the column gradient is the input gradient.
                                StridedGEMM.sgemm(transposeA: true, transposeB: false, m: k, n: p, k: ocg, a: weights, lda: k,
                                                  b: src, ldb: p, c: pgx + start * xImage + grp * groupInput, ldc: p)
                                continue
                            }
                            StridedGEMM.sgemm(transposeA: true, transposeB: false, m: k, n: p, k: ocg, a: weights, lda: k,
                                              b: src, ldb: p, c: col!, ldc: p)
                            ConvolutionKernels.col2im(col!, ld: p, colOffset: 0, g, into: pgx + start * xImage + grp * groupInput)
                            continue
                        }
                        for i in 0..<c {
                            for q in 0..<ocg {
                                (gyc! + q * c * p + i * p).update(from: pg.baseAddress! + ((start + i) * oc + grp * ocg + q) * p, count: p)
                            }
                        }
                        // dcol[K, c·P] = W_gᵀ · gy
                        Parallel.sgemm(transposeA: true, transposeB: false, m: k, n: c * p, k: ocg,
                                          a: weights, lda: k, b: gyc!, ldb: c * p, c: col!, ldc: c * p)
                        Parallel.forEach(count: c, grain: 1) { r in
                            for i in r {
                                ConvolutionKernels.col2im(col!, ld: c * p, colOffset: i * p, g,
                                                          into: pgx + (start + i) * xImage + grp * groupInput)
                            }
                        }
                    }
                    start += c
                }
            }
        }
        withExtendedLifetime(scratch) {}
        return gx
    }

    /// Gradient of ``conv2d(_:_:bias:_:)`` with respect to its weight: `x [N, C, H, W]`,
    /// `gy [N, OC, OH, OW]` → `[OC, C/groups, kH, kW]`.
    /// `columns`, when given, are those kept by ``conv2dKeepingColumns(_:_:bias:_:keepColumns:)`` for `x`.
    public static func conv2dWeightGradient(_ x: Tensor, _ gy: Tensor, weightShape: [Int], _ o: Conv2DOptions,
                                            columns: Tensor? = nil) -> Tensor {
        let g = o.geometry(input: x.shape, kernel: weightShape)
        let n = x.shape[0], oc = weightShape[0], ocg = oc / o.groups
        precondition(gy.shape == [n, oc, g.outputH, g.outputW], "conv2dWeightGradient: \(gy.shape) for input \(x.shape), weight \(weightShape)")
        let p = g.columnCols, k = g.columnRows
        let pointwise = convIsPointwise(g), perImage = convPerImage(g) || pointwise
        if let columns, columns.rank == 5 {
            precondition(columns.shape == [o.groups, n, (p + 31) / 32, k, 32], "conv2dWeightGradient: panels \(columns.shape)")
            return conv2dWeightGradientPanels(x, gy.contiguous(), weightShape: weightShape, o, g, panels: columns.contiguous())
        }
        if columns == nil && usePanels(g) {
            return conv2dWeightGradientPanels(x, gy.contiguous(), weightShape: weightShape, o, g, panels: nil)
        }
        var gw = Tensor(shape: weightShape, repeating: 0)
        let pgw = gw.storage.base
        let given = columns.map { $0.contiguous() }
        precondition(given == nil || given!.shape == [o.groups, k, n * p], "conv2dWeightGradient: columns \(given!.shape)")
        let chunk = pointwise ? 1 : (given != nil ? n : convChunk(batch: n, columnsPerImage: k * p))
        var scratch = ColumnScratch()
        let col = given.map { $0.storage.base + $0.offset } ?? (pointwise ? nil : scratch.columns(k * chunk * p))
        let gyc = perImage ? nil : scratch.aux(ocg * chunk * p)
        x.withUnsafeBufferPointer { px in
            gy.withUnsafeBufferPointer { pg in
                let xImage = x.shape[1] * g.height * g.width
                let groupInput = g.channels * g.height * g.width
                forEachConvChunk(px.baseAddress!, imageSize: xImage, g, batch: n, chunk: chunk, groups: o.groups, col: col,
                                 wholeBatch: given != nil, unfold: given == nil) { start, c, grp, col in
                    if perImage {
                        // gW_g[OCg, K] += gy_i[OCg, P] · col_iᵀ, one partial sum per thread, then added.
                        let parts = Parallel.partCount(c)
                        let partials = Tensor(shape: [parts, ocg * k], repeating: 0)
                        let pp = partials.storage.base
                        Parallel.forEachPart(count: c) { part, images in
                            for i in images {
                                let b = col.map { UnsafePointer($0 + i * p) } ?? (px.baseAddress! + (start + i) * xImage + grp * groupInput)
                                StridedGEMM.sgemm(transposeA: false, transposeB: true, m: ocg, n: k, k: p,
                                                  a: pg.baseAddress! + ((start + i) * oc + grp * ocg) * p, lda: p,
                                                  b: b, ldb: col == nil ? p : c * p, beta: 1, c: pp + part * ocg * k, ldc: k)
                            }
                        }
                        let dst = pgw + grp * ocg * k
                        for part in 0..<parts { for t in 0..<(ocg * k) { dst[t] += pp[part * ocg * k + t] } }
                        withExtendedLifetime(partials) {}
                        return
                    }
                    for i in 0..<c {
                        for q in 0..<ocg {
                            (gyc! + q * c * p + i * p).update(from: pg.baseAddress! + ((start + i) * oc + grp * ocg + q) * p, count: p)
                        }
                    }
                    // gW_g[OCg, K] += gy[OCg, c·P] · colᵀ
                    Parallel.sgemm(transposeA: false, transposeB: true, m: ocg, n: k, k: c * p,
                                      a: gyc!, lda: c * p, b: col!, ldb: c * p, beta: 1,
                                      c: pgw + grp * ocg * k, ldc: k)
                }
            }
        }
        withExtendedLifetime(scratch) {}
        withExtendedLifetime(given) {}
        return gw
    }

    /// Output spatial size of a transposed convolution.
    public static func convTransposeOutputSize(input: Int, kernel: Int, stride: Int, padding: Int, dilation: Int, outputPadding: Int) -> Int {
        (input - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1
    }
}

// MARK: - Pooling and upsampling

extension Tensor {
    /// Max pooling over `[N, C, H, W]`; returns the output and, per output element, the flat
    /// `h·W + w` index of its maximum within the input plane.
    public static func maxPool2d(_ x: Tensor, kernel: Int, stride: Int, padding: Int = 0) -> (Tensor, [Int32]) {
        precondition(x.rank == 4, "maxPool2d: \(x.shape)")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1
        var y = Tensor(uninitializedShape: [n, c, oh, ow])
        var idx = [Int32](repeating: 0, count: n * c * oh * ow)
        let py = y.storage.base
        x.withUnsafeBufferPointer { px in
            idx.withUnsafeMutableBufferPointer { pi in
                let pib = pi.baseAddress!
                Parallel.forEach(count: n * c, grain: 8) { r in
                    for plane in r {
                        let src = px.baseAddress! + plane * h * w
                        if kernel == 2 && stride == 2 && padding == 0 {
                            // The common 2×2 case: no bounds checks, first maximum wins ties.
                            for oy in 0..<oh {
                                let r0 = src + 2 * oy * w, r1 = r0 + w
                                let t0 = (plane * oh + oy) * ow
                                for ox in 0..<ow {
                                    let x0 = 2 * ox
                                    var best = r0[x0], bi = 2 * oy * w + x0
                                    if r0[x0 + 1] > best { best = r0[x0 + 1]; bi = 2 * oy * w + x0 + 1 }
                                    if r1[x0] > best { best = r1[x0]; bi = (2 * oy + 1) * w + x0 }
                                    if r1[x0 + 1] > best { best = r1[x0 + 1]; bi = (2 * oy + 1) * w + x0 + 1 }
                                    py[t0 + ox] = best
                                    pib[t0 + ox] = Int32(bi)
                                }
                            }
                            continue
                        }
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                var best = -Float.infinity, bi = -1
                                for ky in 0..<kernel {
                                    let iy = oy * stride - padding + ky
                                    if iy < 0 || iy >= h { continue }
                                    for kx in 0..<kernel {
                                        let ix = ox * stride - padding + kx
                                        if ix < 0 || ix >= w { continue }
                                        let v = src[iy * w + ix]
                                        if bi < 0 || v > best { best = v; bi = iy * w + ix }
                                    }
                                }
                                let t = (plane * oh + oy) * ow + ox
                                py[t] = best
                                pib[t] = Int32(bi)
                            }
                        }
                    }
                }
            }
        }
        return (y, idx)
    }

    /// Adjoint of max pooling: routes `gy [N, C, OH, OW]` to the recorded maxima of a `[N, C, H, W]` input.
    public static func maxPool2dBackward(_ gy: Tensor, indices: [Int32], inputShape: [Int]) -> Tensor {
        var gx = Tensor(shape: inputShape, repeating: 0)
        let pgx = gx.storage.base
        let plane = inputShape[2] * inputShape[3]
        let per = gy.shape[2] * gy.shape[3]
        gy.withUnsafeBufferPointer { pg in
            for t in 0..<pg.count { pgx[(t / per) * plane + Int(indices[t])] += pg[t] }
        }
        return gx
    }

    /// Reads `x [N, C, H, W]` at recorded max-pool positions: the adjoint of ``maxPool2dBackward(_:indices:inputShape:)``.
    public static func maxPool2dGather(_ x: Tensor, indices: [Int32], outputShape: [Int]) -> Tensor {
        var y = Tensor(uninitializedShape: outputShape)
        let py = y.storage.base
        let plane = x.shape[2] * x.shape[3]
        let per = outputShape[2] * outputShape[3]
        x.withUnsafeBufferPointer { px in
            for t in 0..<y.count { py[t] = px[(t / per) * plane + Int(indices[t])] }
        }
        return y
    }

    /// Average pooling (zero padding counted, as PyTorch's default `count_include_pad`).
    public static func avgPool2d(_ x: Tensor, kernel: Int, stride: Int, padding: Int = 0) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let oh = (h + 2 * padding - kernel) / stride + 1, ow = (w + 2 * padding - kernel) / stride + 1
        var y = Tensor(uninitializedShape: [n, c, oh, ow])
        let py = y.storage.base
        let scale = 1 / Float(kernel * kernel)
        x.withUnsafeBufferPointer { px in
            for plane in 0..<(n * c) {
                let src = px.baseAddress! + plane * h * w
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var s: Float = 0
                        for ky in 0..<kernel {
                            let iy = oy * stride - padding + ky
                            if iy < 0 || iy >= h { continue }
                            for kx in 0..<kernel {
                                let ix = ox * stride - padding + kx
                                if ix >= 0 && ix < w { s += src[iy * w + ix] }
                            }
                        }
                        py[(plane * oh + oy) * ow + ox] = s * scale
                    }
                }
            }
        }
        return y
    }

    /// Adjoint of ``avgPool2d(_:kernel:stride:padding:)``.
    public static func avgPool2dBackward(_ gy: Tensor, inputShape: [Int], kernel: Int, stride: Int, padding: Int = 0) -> Tensor {
        let (h, w) = (inputShape[2], inputShape[3])
        let (oh, ow) = (gy.shape[2], gy.shape[3])
        var gx = Tensor(shape: inputShape, repeating: 0)
        let pgx = gx.storage.base
        let scale = 1 / Float(kernel * kernel)
        gy.withUnsafeBufferPointer { pg in
            for plane in 0..<(inputShape[0] * inputShape[1]) {
                let dst = pgx + plane * h * w
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        let v = pg[(plane * oh + oy) * ow + ox] * scale
                        for ky in 0..<kernel {
                            let iy = oy * stride - padding + ky
                            if iy < 0 || iy >= h { continue }
                            for kx in 0..<kernel {
                                let ix = ox * stride - padding + kx
                                if ix >= 0 && ix < w { dst[iy * w + ix] += v }
                            }
                        }
                    }
                }
            }
        }
        return gx
    }

    /// Nearest-neighbour upsampling of `[N, C, H, W]` by an integer `factor`.
    public static func upsampleNearest(_ x: Tensor, factor: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        var y = Tensor(uninitializedShape: [n, c, h * factor, w * factor])
        let py = y.storage.base
        let ow = w * factor
        x.withUnsafeBufferPointer { px in
            for plane in 0..<(n * c) {
                for iy in 0..<h {
                    let row = py + (plane * h * factor + iy * factor) * ow
                    for ix in 0..<w {
                        let v = px[(plane * h + iy) * w + ix]
                        for f in 0..<factor { row[ix * factor + f] = v }
                    }
                    for f in 1..<Swift.max(factor, 1) { (row + f * ow).update(from: row, count: ow) }
                }
            }
        }
        return y
    }

    /// Adjoint of ``upsampleNearest(_:factor:)``: sums each `factor × factor` block.
    public static func upsampleNearestBackward(_ gy: Tensor, factor: Int) -> Tensor {
        let (n, c, oh, ow) = (gy.shape[0], gy.shape[1], gy.shape[2], gy.shape[3])
        let h = oh / factor, w = ow / factor
        var gx = Tensor(shape: [n, c, h, w], repeating: 0)
        let pgx = gx.storage.base
        gy.withUnsafeBufferPointer { pg in
            for plane in 0..<(n * c) {
                for oy in 0..<oh {
                    for ox in 0..<ow { pgx[(plane * h + oy / factor) * w + ox / factor] += pg[(plane * oh + oy) * ow + ox] }
                }
            }
        }
        return gx
    }
}
