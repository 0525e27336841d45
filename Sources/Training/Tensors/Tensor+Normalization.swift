// SPDX-License-Identifier: Apache-2.0

import Kernels
#if canImport(Glibc)
import Glibc
#endif

/// Σ p[j] over `n` floats with 8-lane partial sums (a reassociated, vectorizable sum).
@inline(__always)
func simdSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    var j = 0
    while j + 8 <= n { acc += UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self); j += 8 }
    var t = acc.sum()
    while j < n { t += p[j]; j += 1 }
    return t
}

/// Σ (p[j] − mu)² over `n` floats.
@inline(__always)
func simdSquaredDeviation(_ p: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> Float {
    var acc = SIMD8<Float>(repeating: 0)
    let m = SIMD8<Float>(repeating: mu)
    var j = 0
    while j + 8 <= n { let d = UnsafeRawPointer(p + j).loadUnaligned(as: SIMD8<Float>.self) - m; acc += d * d; j += 8 }
    var t = acc.sum()
    while j < n { let d = p[j] - mu; t += d * d; j += 1 }
    return t
}

/// (Σ g[j], Σ g[j]·(x[j] − mu)) over `n` floats.
@inline(__always)
func simdGradientSums(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int, _ mu: Float) -> (Float, Float) {
    var a = SIMD8<Float>(repeating: 0), b = SIMD8<Float>(repeating: 0)
    let m = SIMD8<Float>(repeating: mu)
    var j = 0
    while j + 8 <= n {
        let gv = UnsafeRawPointer(g + j).loadUnaligned(as: SIMD8<Float>.self)
        let xv = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD8<Float>.self)
        a += gv; b += gv * (xv - m)
        j += 8
    }
    var s0 = a.sum(), s1 = b.sum()
    while j < n { s0 += g[j]; s1 += g[j] * (x[j] - mu); j += 1 }
    return (s0, s1)
}

extension Tensor {
    /// Softmax over the last axis (max-subtracted, vectorized `TrainingMath.exp`).
    public func softmaxLastAxis() -> Tensor { softmaxKernel(log: false) }

    /// Log-softmax over the last axis.
    public func logSoftmaxLastAxis() -> Tensor { softmaxKernel(log: true) }

    private func softmaxKernel(log: Bool) -> Tensor {
        let n = shape[rank - 1]
        let rows = count / Swift.max(n, 1)
        var out = Tensor(uninitializedShape: shape)
        let d = out.storage.base
        withUnsafeBufferPointer { p in
            let s = p.baseAddress!
            Parallel.forEach(count: rows, grain: Swift.max(1, 16_384 / Swift.max(n, 1))) { r in
                for row in r {
                    let x = s + row * n, y = d + row * n
                    var m = -Float.infinity
                    for j in 0..<n { m = Swift.max(m, x[j]) }
                    if m == -.infinity { m = 0 }
                    Tensor.vectorized(x, y, n) { TrainingMath.exp($0 - SIMD8(repeating: m)) }
                    var z: Float = 0
                    for j in 0..<n { z += y[j] }
                    if log {
                        let lz = m + logf(z)
                        for j in 0..<n { y[j] = x[j] - lz }
                    } else {
                        let inv = 1 / z
                        for j in 0..<n { y[j] *= inv }
                    }
                }
            }
        }
        return out
    }

    /// Layer normalization over the last axis: `y = (x − μ) · rstd · γ + β`.
    /// Returns `y` plus the per-row mean and reciprocal standard deviation `[rows]`.
    public static func layerNorm(_ x: Tensor, gamma: Tensor?, beta: Tensor?, epsilon: Float) -> (y: Tensor, mean: Tensor, rstd: Tensor) {
        let n = x.shape[x.rank - 1]
        let rows = x.count / Swift.max(n, 1)
        var y = Tensor(uninitializedShape: x.shape)
        var mean = Tensor(uninitializedShape: [rows]), rstd = Tensor(uninitializedShape: [rows])
        let py = y.storage.base, pm = mean.storage.base, pr = rstd.storage.base
        let gc = gamma?.contiguous(), bc = beta?.contiguous()
        let pgm = gc.map { $0.storage.base + $0.offset }, pbt = bc.map { $0.storage.base + $0.offset }
        x.withUnsafeBufferPointer { px in
            Parallel.forEach(count: rows, grain: Swift.max(1, 16_384 / Swift.max(n, 1))) { r in
                for row in r {
                    let s = px.baseAddress! + row * n, d = py + row * n
                    var mu: Float = 0
                    for j in 0..<n { mu += s[j] }
                    mu /= Float(n)
                    var v: Float = 0
                    for j in 0..<n { let t = s[j] - mu; v += t * t }
                    let rs = 1 / (v / Float(n) + epsilon).squareRoot()
                    pm[row] = mu; pr[row] = rs
                    if let g = pgm, let b = pbt {
                        for j in 0..<n { d[j] = (s[j] - mu) * rs * g[j] + b[j] }
                    } else {
                        for j in 0..<n { d[j] = (s[j] - mu) * rs }
                    }
                }
            }
        }
        return (y, mean, rstd)
    }

    /// Backward of ``layerNorm(_:gamma:beta:epsilon:)``: gradients for `x`, `γ` and `β`.
    public static func layerNormBackward(_ gy: Tensor, _ x: Tensor, mean: Tensor, rstd: Tensor, gamma: Tensor?)
        -> (gx: Tensor, gGamma: Tensor, gBeta: Tensor)
    {
        let n = x.shape[x.rank - 1]
        let rows = x.count / Swift.max(n, 1)
        var gx = Tensor(uninitializedShape: x.shape)
        var gGamma = Tensor(shape: [n], repeating: 0), gBeta = Tensor(shape: [n], repeating: 0)
        let pgx = gx.storage.base, pgg = gGamma.storage.base, pgb = gBeta.storage.base
        let gc = gamma?.contiguous()
        let pgm = gc.map { $0.storage.base + $0.offset }
        let mc = mean.contiguous(), rc = rstd.contiguous()
        x.withUnsafeBufferPointer { px in
            gy.withUnsafeBufferPointer { pg in
                for row in 0..<rows {
                    let s = px.baseAddress! + row * n, g = pg.baseAddress! + row * n, d = pgx + row * n
                    let mu = mc.storage.base[mc.offset + row], rs = rc.storage.base[rc.offset + row]
                    // ĝ = g·γ; gx = rs · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂))
                    var sumG: Float = 0, sumGX: Float = 0
                    for j in 0..<n {
                        let xh = (s[j] - mu) * rs
                        let gh = g[j] * (pgm?[j] ?? 1)
                        sumG += gh; sumGX += gh * xh
                        pgg[j] += g[j] * xh
                        pgb[j] += g[j]
                    }
                    let inv = 1 / Float(n)
                    for j in 0..<n {
                        let xh = (s[j] - mu) * rs
                        let gh = g[j] * (pgm?[j] ?? 1)
                        d[j] = rs * (gh - sumG * inv - xh * sumGX * inv)
                    }
                }
            }
        }
        return (gx, gGamma, gBeta)
    }

    /// Batch-normalization statistics of `x [N, C, ...]` per channel: mean and biased variance `[C]`.
    public static func channelMoments(_ x: Tensor) -> (mean: Tensor, variance: Tensor) {
        let n = x.shape[0], c = x.shape[1], inner = x.count / Swift.max(n * c, 1)
        var mean = Tensor(uninitializedShape: [c]), variance = Tensor(uninitializedShape: [c])
        let pm = mean.storage.base, pv = variance.storage.base
        x.withUnsafeBufferPointer { px in
            Parallel.forEach(count: c, grain: 1) { r in
                for ch in r {
                    var s = 0.0
                    for i in 0..<n {
                        s += Double(simdSum(px.baseAddress! + (i * c + ch) * inner, inner))
                    }
                    let mu = Float(s / Double(n * inner))
                    var v = 0.0
                    for i in 0..<n {
                        v += Double(simdSquaredDeviation(px.baseAddress! + (i * c + ch) * inner, inner, mu))
                    }
                    pm[ch] = mu
                    pv[ch] = Float(v / Double(n * inner))
                }
            }
        }
        return (mean, variance)
    }

    /// `y = (x − mean[c]) · scale[c] + shift[c]` over `x [N, C, ...]`: batch norm's affine step.
    public static func channelAffine(_ x: Tensor, mean: Tensor, scale: Tensor, shift: Tensor) -> Tensor {
        let n = x.shape[0], c = x.shape[1], inner = x.count / Swift.max(n * c, 1)
        var y = Tensor(uninitializedShape: x.shape)
        let py = y.storage.base
        let m = mean.scalars, sc = scale.scalars, sh = shift.scalars
        x.withUnsafeBufferPointer { px in
            Parallel.forEach(count: n * c, grain: Swift.max(1, 32_768 / Swift.max(inner, 1))) { r in
                for plane in r {
                    let ch = plane % c
                    let s = px.baseAddress! + plane * inner, d = py + plane * inner
                    let mu = m[ch], a = sc[ch], b = sh[ch]
                    for j in 0..<inner { d[j] = (s[j] - mu) * a + b }
                }
            }
        }
        return y
    }

    /// Backward of training-mode batch norm over `x [N, C, ...]` with batch statistics `mean`, `rstd`.
    public static func batchNormBackward(_ gy: Tensor, _ x: Tensor, mean: Tensor, rstd: Tensor, gamma: Tensor)
        -> (gx: Tensor, gGamma: Tensor, gBeta: Tensor)
    {
        let n = x.shape[0], c = x.shape[1], inner = x.count / Swift.max(n * c, 1)
        let count = Float(n * inner)
        var gx = Tensor(uninitializedShape: x.shape)
        var gGamma = Tensor(uninitializedShape: [c]), gBeta = Tensor(uninitializedShape: [c])
        let pgx = gx.storage.base, pgg = gGamma.storage.base, pgb = gBeta.storage.base
        let m = mean.scalars, rs = rstd.scalars, gm = gamma.scalars
        x.withUnsafeBufferPointer { px in
            gy.withUnsafeBufferPointer { pg in
                Parallel.forEach(count: c, grain: 1) { r in
                    for ch in r {
                        let mu = m[ch], s = rs[ch]
                        var sumG: Float = 0, sumGX: Float = 0
                        for i in 0..<n {
                            let o = (i * c + ch) * inner
                            let (a, b) = simdGradientSums(pg.baseAddress! + o, px.baseAddress! + o, inner, mu)
                            sumG += a; sumGX += b
                        }
                        sumGX *= s
                        pgg[ch] = sumGX
                        pgb[ch] = sumG
                        let k = gm[ch] * s
                        let a = sumG / count, b = sumGX / count
                        for i in 0..<n {
                            let o = (i * c + ch) * inner
                            let xp = px.baseAddress! + o, gp = pg.baseAddress! + o, d = pgx + o
                            for j in 0..<inner { d[j] = k * (gp[j] - a - (xp[j] - mu) * s * b) }
                        }
                    }
                }
            }
        }
        return (gx, gGamma, gBeta)
    }
}
