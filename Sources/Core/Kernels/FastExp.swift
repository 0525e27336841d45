// SPDX-License-Identifier: Apache-2.0

/// A vectorized single-precision `exp` (range reduction by ln 2 plus a degree-5 polynomial, the
/// scheme of Arm's optimized-routines `expf`), accurate to about 1.5 ulp.
///
/// ggml evaluates softmax and SiLU with this same scheme, so using it keeps Tern's activations
/// bit-compatible with llama.cpp's and is several times faster than calling libm per element.
public enum FastExp {
    /// e^x for 16 lanes. Inputs above ~88.38 give +inf, below ~-103.97 give 0; -inf gives 0.
    ///
    /// Written with integer lane operations only where a float select or clamp would be needed:
    /// Swift lowers float `pointwiseMax`, `clamped` and `replacing(with:where:)` to per-lane loops
    /// (NaN rules), which made softmax and SwiGLU a quarter of a prefill each.
    @inline(__always)
    public static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        // |x| > 200 saturates (e^±200 is ±inf/0 either way); this also maps ±inf into range.
        let bits = unsafeBitCast(x, to: SIMD16<Int32>.self)
        let limit = SIMD16<Int32>(repeating: 0x4348_0000)  // 200.0
        let saturated = (bits & SIMD16(repeating: Int32(bitPattern: 0x8000_0000))) | limit
        let xc = unsafeBitCast(bits.replacing(with: saturated, where: (bits & 0x7FFF_FFFF) .> limit), to: SIMD16<Float>.self)
        let shifter = SIMD16<Float>(repeating: 0x1.8p23)
        // n = round(x / ln 2) via the 1.5·2^23 shifter trick; z's low mantissa bits hold n.
        let z = fma(xc, SIMD16(repeating: 0x1.715476p+0), shifter)
        let n = z - shifter
        // r = x − n·ln2, with ln 2 split in a high and a low part.
        let b = fnma(n, SIMD16(repeating: 0x1.7f7d1cp-20), fnma(n, SIMD16(repeating: 0x1.62e4p-1), xc))
        let u = b * b
        let j = fma(
            fma(fma(SIMD16(repeating: 0x1.0e4020p-7), b, SIMD16(repeating: 0x1.573e2ep-5)), u,
                fma(SIMD16(repeating: 0x1.555e66p-3), b, SIMD16(repeating: 0x1.fffdb6p-2))),
            u,
            fma(SIMD16(repeating: 0x1.ffffecp-1), b, SIMD16(repeating: 1)))
        // j · 2^n as j · 2^⌊n/2⌋ · 2^(n−⌊n/2⌋): exact for |n| ≤ 192, and beyond it the factors
        // saturate to 0 or inf so the product is 0 (n < −192) or inf (n > 192).
        let ni = unsafeBitCast(z, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let half = ni &>> 1
        return j * pow2(half) * pow2(ni &- half)
    }

    /// Scalar e^x through the same approximation (lane 0 of the vector version).
    @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(SIMD16(repeating: x))[0] }

    @inline(__always) static func fma(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>) -> SIMD16<Float> {
        c.addingProduct(a, b)
    }

    /// c − a·b, fused.
    @inline(__always) static func fnma(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>) -> SIMD16<Float> {
        c.addingProduct(-a, b)
    }

    /// 2^k for integer k: exact for k in [-126, 127], 0 below, +inf above (built from the exponent bits).
    @inline(__always) static func pow2(_ k: SIMD16<Int32>) -> SIMD16<Float> {
        let e = pointwiseMin(pointwiseMax(k &+ 127, SIMD16(repeating: 0)), SIMD16(repeating: 255))
        return unsafeBitCast(e &<< 23, to: SIMD16<Float>.self)
    }
}
