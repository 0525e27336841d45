// SPDX-License-Identifier: Apache-2.0

/// Vectorized `exp` and `erf` for the training stack's pointwise kernels (softmax, sigmoid, GELU).
///
/// Every select works on integer lanes (the float bits): Swift lowers float clamps and
/// `replacing(with:where:)` on float vectors to per-lane loops because of NaN rules, while integer
/// selects stay single instructions. `2ⁿ` is built from the shifter's mantissa bits.
public enum TrainingMath {
    /// eˣ for 8 lanes, relative error below 2 ulp for |x| ≤ 87.3; 0 below −87.3 (including −∞),
    /// +∞ above 87.3.
    @inlinable @inline(__always)
    public static func exp(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let bits = unsafeBitCast(x, to: SIMD8<Int32>.self)
        let magnitude = bits & SIMD8(repeating: 0x7FFF_FFFF)
        let sign = bits & SIMD8(repeating: Int32(bitPattern: 0x8000_0000))
        let limit = SIMD8<Int32>(repeating: 0x42AE_999A)  // 87.3 (NaN and ±∞ bits compare larger)
        let xc = unsafeBitCast(pointwiseMin(magnitude, limit) | sign, to: SIMD8<Float>.self)
        // n = round(x / ln 2) with the 1.5·2²³ shifter: the low mantissa bits of z hold n.
        let shifter = SIMD8<Float>(repeating: 0x1.8p23)
        let z = xc * 1.44269504088896341 + shifter
        let n = z - shifter
        let r = xc - n * 0.693145751953125 - n * 1.428606765330187045e-06
        // e^r on |r| ≤ ln2/2: degree-6 Taylor polynomial (truncation below 2·10⁻⁸).
        var p = SIMD8<Float>(repeating: 1.0 / 720)
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        let scale = (unsafeBitCast(z, to: SIMD8<Int32>.self) &<< 23) &+ 0x3F80_0000
        let result = unsafeBitCast(p * unsafeBitCast(scale, to: SIMD8<Float>.self), to: SIMD8<Int32>.self)
        // Out of range: all-ones masks from 0/1 flags, without lane selects.
        let out = pointwiseMin(pointwiseMax(magnitude &- limit, SIMD8(repeating: 0)), SIMD8(repeating: 1))
        let negative = (bits &>> 31) & SIMD8(repeating: 1)
        let underflow = SIMD8(repeating: 0) &- (out & negative)
        let overflow = SIMD8(repeating: 0) &- (out & (SIMD8(repeating: 1) &- negative))
        let clipped = (result & ~(underflow | overflow)) | (overflow & SIMD8(repeating: 0x7F80_0000))
        return unsafeBitCast(clipped, to: SIMD8<Float>.self)
    }

    /// Scalar eˣ through the vector routine.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(SIMD8(repeating: x))[0] }

    /// erf(x) for 8 lanes (Abramowitz & Stegun 7.1.26, absolute error below 1.5·10⁻⁷).
    @inlinable @inline(__always)
    public static func erf(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let bits = unsafeBitCast(x, to: SIMD8<Int32>.self)
        let sign = bits & SIMD8(repeating: Int32(bitPattern: 0x8000_0000))
        let a = unsafeBitCast(bits & SIMD8(repeating: 0x7FFF_FFFF), to: SIMD8<Float>.self)
        let t = 1 / (1 + 0.3275911 * a)
        var y = SIMD8<Float>(repeating: 1.061405429)
        y = y * t - 1.453152027
        y = y * t + 1.421413741
        y = y * t - 0.284496736
        y = y * t + 0.254829592
        let v = 1 - y * t * exp(-a * a)
        return unsafeBitCast(unsafeBitCast(v, to: SIMD8<Int32>.self) | sign, to: SIMD8<Float>.self)
    }
}
