// SPDX-License-Identifier: Apache-2.0

/// A vectorized single-precision `exp` (range reduction by ln 2 plus a degree-5 polynomial, the
/// scheme of Arm's optimized-routines `expf`), accurate to about 1.5 ulp.
///
/// ggml evaluates softmax and SiLU with this same scheme, so using it keeps Tern's activations
/// bit-compatible with llama.cpp's and is several times faster than calling libm per element.
public enum FastExp {
    /// e^x for 16 lanes. Inputs above ~88.38 give +inf, below ~-103.97 give 0; -inf gives 0.
    @inline(__always)
    public static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let shifter = SIMD16<Float>(repeating: 0x1.8p23)
        // n = round(x / ln 2) via the 1.5·2^23 shifter trick.
        let z = fma(x, SIMD16(repeating: 0x1.715476p+0), shifter)
        let n = z - shifter
        // r = x − n·ln2, with ln 2 split in a high and a low part.
        let b = fnma(n, SIMD16(repeating: 0x1.7f7d1cp-20), fnma(n, SIMD16(repeating: 0x1.62e4p-1), x))
        let u = b * b
        let j = fma(
            fma(fma(SIMD16(repeating: 0x1.0e4020p-7), b, SIMD16(repeating: 0x1.573e2ep-5)), u,
                fma(SIMD16(repeating: 0x1.555e66p-3), b, SIMD16(repeating: 0x1.fffdb6p-2))),
            u,
            fma(SIMD16(repeating: 0x1.ffffecp-1), b, SIMD16(repeating: 1)))
        // j · 2^n, split in two factors so that every |n| ≤ 192 stays exact and in range.
        let half = (n * 0.5).rounded(.down)
        let rest = n - half
        var result = j * pow2(half) * pow2(rest)
        let big = (n .> SIMD16(repeating: 192)) .| (n .< SIMD16(repeating: -192))
        if any(big) {
            let alt = SIMD16<Float>(repeating: 0).replacing(with: .infinity, where: n .> 0)
            result.replace(with: alt, where: big)
        }
        // NaN inputs (and -inf, whose n is -inf) are handled by the masks above: -inf → 0.
        return result
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

    /// 2^k for integer-valued k in [-126, 127] (built from the exponent bits).
    @inline(__always) static func pow2(_ k: SIMD16<Float>) -> SIMD16<Float> {
        let clamped = k.clamped(lowerBound: SIMD16(repeating: -126), upperBound: SIMD16(repeating: 127))
        let bits = (SIMD16<Int32>(clamped) &+ 127) &<< 23
        return unsafeBitCast(bits, to: SIMD16<Float>.self)
    }
}
