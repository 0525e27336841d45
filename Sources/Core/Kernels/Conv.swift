// SPDX-License-Identifier: Apache-2.0

internal import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// Geometry of a 2-D convolution over one image: input `[channels, height, width]`, kernel
/// `[kernelH, kernelW]`, output `[outputH, outputW]`.
public struct ConvGeometry: Sendable, Equatable {
    public var channels: Int, height: Int, width: Int
    public var kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var padH: Int, padW: Int
    public var dilationH: Int, dilationW: Int

    public init(channels: Int, height: Int, width: Int, kernelH: Int, kernelW: Int,
                stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)) {
        self.channels = channels; self.height = height; self.width = width
        self.kernelH = kernelH; self.kernelW = kernelW
        strideH = stride.0; strideW = stride.1; padH = padding.0; padW = padding.1
        dilationH = dilation.0; dilationW = dilation.1
    }

    /// Output height.
    public var outputH: Int { (height + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1 }
    /// Output width.
    public var outputW: Int { (width + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1 }
    /// Rows of the column matrix: `channels · kernelH · kernelW`.
    public var columnRows: Int { channels * kernelH * kernelW }
    /// Columns per image of the column matrix: `outputH · outputW`.
    public var columnCols: Int { outputH * outputW }
}

/// im2col / col2im for convolution as GEMM, with a direct-loop reference convolution beside them.
public enum ConvolutionKernels {
    /// Unfolds one image `x [channels, height, width]` into columns
    /// `col[channels·kH·kW, ld]` starting at column `colOffset` (`outputH·outputW` columns are written).
    /// Padding positions are written as zero.
    public static func im2col(_ x: UnsafePointer<Float>, _ g: ConvGeometry,
                              col: UnsafeMutablePointer<Float>, ld: Int, colOffset: Int) {
        let oh = g.outputH, ow = g.outputW
        for c in 0..<g.channels {
            let plane = x + c * g.height * g.width
            for ki in 0..<g.kernelH {
                for kj in 0..<g.kernelW {
                    let row = (c * g.kernelH + ki) * g.kernelW + kj
                    let dst = col + row * ld + colOffset
                    for oy in 0..<oh {
                        let iy = oy * g.strideH - g.padH + ki * g.dilationH
                        let d = dst + oy * ow
                        if iy < 0 || iy >= g.height {
                            d.update(repeating: 0, count: ow)
                            continue
                        }
                        let src = plane + iy * g.width
                        let x0 = kj * g.dilationW - g.padW
                        if g.strideW == 1 {
                            // Contiguous run with zero borders.
                            let lo = max(0, -x0), hi = min(ow, g.width - x0)
                            if lo > 0 { d.update(repeating: 0, count: min(lo, ow)) }
                            if hi > lo { (d + lo).update(from: src + x0 + lo, count: hi - lo) }
                            if hi < ow { (d + max(hi, lo)).update(repeating: 0, count: ow - max(hi, lo)) }
                        } else {
                            for ox in 0..<ow {
                                let ix = ox * g.strideW + x0
                                d[ox] = (ix >= 0 && ix < g.width) ? src[ix] : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// Folds columns back into an image, accumulating: `x [channels, height, width] += col2im(col)`.
    public static func col2im(_ col: UnsafePointer<Float>, ld: Int, colOffset: Int, _ g: ConvGeometry,
                              into x: UnsafeMutablePointer<Float>) {
        let oh = g.outputH, ow = g.outputW
        for c in 0..<g.channels {
            let plane = x + c * g.height * g.width
            for ki in 0..<g.kernelH {
                for kj in 0..<g.kernelW {
                    let row = (c * g.kernelH + ki) * g.kernelW + kj
                    let src = col + row * ld + colOffset
                    for oy in 0..<oh {
                        let iy = oy * g.strideH - g.padH + ki * g.dilationH
                        if iy < 0 || iy >= g.height { continue }
                        let s = src + oy * ow
                        let d = plane + iy * g.width
                        let x0 = kj * g.dilationW - g.padW
                        if g.strideW == 1 {
                            let lo = max(0, -x0), hi = min(ow, g.width - x0)
                            if hi > lo { for ox in lo..<hi { d[ox + x0] += s[ox] } }
                        } else {
                            for ox in 0..<ow {
                                let ix = ox * g.strideW + x0
                                if ix >= 0 && ix < g.width { d[ix] += s[ox] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Direct convolution of one image in `Double` (no groups): `y[outC, oh, ow] = Σ w[outC, c, ki, kj] · x[c, …]`.
    /// The parity reference for the im2col + GEMM path.
    public static func referenceConv(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, outChannels: Int,
                                     _ g: ConvGeometry, y: UnsafeMutablePointer<Float>) {
        let oh = g.outputH, ow = g.outputW
        for o in 0..<outChannels {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var s = 0.0
                    for c in 0..<g.channels {
                        for ki in 0..<g.kernelH {
                            for kj in 0..<g.kernelW {
                                let iy = oy * g.strideH - g.padH + ki * g.dilationH
                                let ix = ox * g.strideW - g.padW + kj * g.dilationW
                                if iy < 0 || iy >= g.height || ix < 0 || ix >= g.width { continue }
                                s += Double(w[((o * g.channels + c) * g.kernelH + ki) * g.kernelW + kj])
                                    * Double(x[(c * g.height + iy) * g.width + ix])
                            }
                        }
                    }
                    y[(o * oh + oy) * ow + ox] = Float(s)
                }
            }
        }
    }
}

/// The AVX-512 panel path of convolution as GEMM (C kernels in `ConvKernels.c`): the columns of one
/// image are written as 32-column panels `[ceil(P/32), K, 32]`, which the forward and weight-gradient
/// kernels stream without OpenBLAS's packing copy. ``im2col(_:_:col:ld:colOffset:)`` + ``StridedGEMM``
/// remain the reference and the fallback.
extension ConvolutionKernels {
    /// True when the panel kernels run on this CPU (AVX-512) and `TERN_CONV_GEMM` is not `blas`.
    public static let panelKernelsAvailable: Bool = {
        if let v = getenv("TERN_CONV_GEMM"), String(cString: v) == "blas" { return false }
        return tern_simd_level() == 2
    }()

    /// Floats of one image's panels: `ceil(P/32) · K · 32`.
    public static func panelFloats(_ g: ConvGeometry) -> Int { (g.columnCols + 31) / 32 * g.columnRows * 32 }

    /// Writes the columns of one image `x [channels, height, width]` as panels (``panelFloats(_:)``
    /// floats, 64-byte aligned). `streaming` bypasses the caches: for panels kept for the backward pass.
    public static func im2colPanels(_ x: UnsafePointer<Float>, _ g: ConvGeometry, panels: UnsafeMutablePointer<Float>,
                                    streaming: Bool = false) {
        precondition(UInt(bitPattern: panels) % 64 == 0, "im2colPanels: panels must be 64-byte aligned")
        tern_im2col_panels(x, Int32(g.channels), Int32(g.height), Int32(g.width), Int32(g.kernelH), Int32(g.kernelW),
                           Int32(g.strideH), Int32(g.strideW), Int32(g.padH), Int32(g.padW),
                           Int32(g.dilationH), Int32(g.dilationW), panels, streaming ? 1 : 0)
    }

    /// `c[o, t] (+)= Σ_r wt[r, o] · column(r, t)` for `o < m`, `t < p`: `wt [k, m]` (transposed
    /// weights), `c` rows `ldc` apart; `accumulate` adds to `c`.
    public static func forwardPanels(m: Int, k: Int, p: Int, wt: UnsafePointer<Float>, panels: UnsafePointer<Float>,
                                     c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        tern_conv_forward_panels(Int32(m), Int32(k), Int32(p), wt, panels, c, ldc, accumulate ? 1 : 0)
    }

    /// `gwt[r, o] += Σ_t column(r, t) · gy[o, t]` for `r < k`, `o < m`: the transposed weight
    /// gradient `gwt [k, m16]` (`m16` = `m` rounded up to 16); `gyt` is scratch of `p · m16` floats.
    public static func weightGradientPanels(m: Int, k: Int, p: Int, gy: UnsafePointer<Float>, ldgy: Int,
                                            panels: UnsafePointer<Float>, gyt: UnsafeMutablePointer<Float>,
                                            gwt: UnsafeMutablePointer<Float>) {
        tern_conv_weight_grad_panels(Int32(m), Int32(k), Int32(p), gy, ldgy, panels, gyt, gwt)
    }
}
