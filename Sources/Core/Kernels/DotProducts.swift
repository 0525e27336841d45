// SPDX-License-Identifier: Apache-2.0

/// Dot products between one quantized weight row and one quantized activation row.
///
/// Each format has a scalar reference (`…Reference`) written for clarity and a SIMD fast path;
/// tests check that they agree. All functions take `blocks` = row length / 32.
public enum QuantizedDot {
    @inline(__always)
    static func f16(_ p: UnsafeRawPointer, _ off: Int) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: off, as: UInt16.self)))
    }

    // MARK: - Q4_1 weights × Q8_1 activations

    /// Scalar reference: Σ_blocks (dw·da·Σ q_w q_a + m_w·s_a).
    public static func q4_1Q8_1Reference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let wb = w + b * 20, ab = a + b * 36
            var sumi = 0
            for j in 0..<16 {
                let q = wb.load(fromByteOffset: 4 + j, as: UInt8.self)
                sumi += Int(q & 0x0F) * Int(ab.load(fromByteOffset: 4 + j, as: Int8.self))
                sumi += Int(q >> 4) * Int(ab.load(fromByteOffset: 20 + j, as: Int8.self))
            }
            sum += f16(wb, 0) * f16(ab, 0) * Float(sumi) + f16(wb, 2) * f16(ab, 2)
        }
        return sum
    }

    /// SIMD fast path of ``q4_1Q8_1Reference(_:_:blocks:)``.
    ///
    /// Accumulation order follows ggml's AVX2 kernel exactly (eight lanes, each the integer sum of
    /// four consecutive products, fused into the lane accumulator per block; `m·s` summed apart),
    /// so results are bit-identical to llama.cpp's.
    @inline(__always)
    public static func q4_1Q8_1(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        var mins: Float = 0
        for b in 0..<blocks {
            let wb = w + b * 20, ab = a + b * 36
            let q = wb.loadUnaligned(fromByteOffset: 4, as: SIMD16<UInt8>.self)
            let lo = SIMD16<Int16>(truncatingIfNeeded: q & 0x0F)
            let hi = SIMD16<Int16>(truncatingIfNeeded: q &>> 4)
            let a0 = SIMD16<Int16>(truncatingIfNeeded: ab.loadUnaligned(fromByteOffset: 4, as: SIMD16<Int8>.self))
            let a1 = SIMD16<Int16>(truncatingIfNeeded: ab.loadUnaligned(fromByteOffset: 20, as: SIMD16<Int8>.self))
            let lanes = fourWaySums(lo &* a0, hi &* a1)
            let d = f16(wb, 0) * f16(ab, 0)
            acc = acc.addingProduct(SIMD8(repeating: d), SIMD8<Float>(lanes))
            mins = mins.addingProduct(f16(wb, 2), f16(ab, 2))
        }
        return horizontalSum(acc) + mins
    }

    /// Sums of four consecutive products: lanes 0–3 from `p0`, lanes 4–7 from `p1`.
    @inline(__always)
    static func fourWaySums(_ p0: SIMD16<Int16>, _ p1: SIMD16<Int16>) -> SIMD8<Int32> {
        let pairs0 = SIMD8<Int32>(truncatingIfNeeded: p0.evenHalf) &+ SIMD8<Int32>(truncatingIfNeeded: p0.oddHalf)
        let pairs1 = SIMD8<Int32>(truncatingIfNeeded: p1.evenHalf) &+ SIMD8<Int32>(truncatingIfNeeded: p1.oddHalf)
        let quads0 = pairs0.evenHalf &+ pairs0.oddHalf
        let quads1 = pairs1.evenHalf &+ pairs1.oddHalf
        return SIMD8(lowHalf: quads0, highHalf: quads1)
    }

    /// ggml's `hsum_float_8`: (hi + lo) halves, then pairs, then the last two.
    @inline(__always)
    static func horizontalSum(_ v: SIMD8<Float>) -> Float {
        let r = v.highHalf + v.lowHalf
        return (r[0] + r[2]) + (r[1] + r[3])
    }

    // MARK: - Q4_0 weights × Q8_0 activations

    /// Scalar reference: Σ dw·da·Σ (q_w − 8) q_a.
    public static func q4_0Q8_0Reference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let wb = w + b * 18, ab = a + b * 34
            var sumi = 0
            for j in 0..<16 {
                let q = wb.load(fromByteOffset: 2 + j, as: UInt8.self)
                sumi += (Int(q & 0x0F) - 8) * Int(ab.load(fromByteOffset: 2 + j, as: Int8.self))
                sumi += (Int(q >> 4) - 8) * Int(ab.load(fromByteOffset: 18 + j, as: Int8.self))
            }
            sum += f16(wb, 0) * f16(ab, 0) * Float(sumi)
        }
        return sum
    }

    /// SIMD fast path of ``q4_0Q8_0Reference(_:_:blocks:)``.
    @inline(__always)
    public static func q4_0Q8_0(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc: Float = 0
        for b in 0..<blocks {
            let wb = w + b * 18, ab = a + b * 34
            let q = wb.loadUnaligned(fromByteOffset: 2, as: SIMD16<UInt8>.self)
            let lo = SIMD16<Int16>(truncatingIfNeeded: q & 0x0F) &- 8
            let hi = SIMD16<Int16>(truncatingIfNeeded: q &>> 4) &- 8
            let a0 = SIMD16<Int16>(truncatingIfNeeded: ab.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self))
            let a1 = SIMD16<Int16>(truncatingIfNeeded: ab.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self))
            let s = SIMD16<Int32>(truncatingIfNeeded: lo &* a0 &+ hi &* a1).wrappedSum()
            acc += f16(wb, 0) * f16(ab, 0) * Float(s)
        }
        return acc
    }

    // MARK: - Q8_0 weights × Q8_0 activations

    /// Scalar reference: Σ dw·da·Σ q_w q_a.
    public static func q8_0Q8_0Reference(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let wb = w + b * 34, ab = a + b * 34
            var sumi = 0
            for j in 0..<32 {
                sumi += Int(wb.load(fromByteOffset: 2 + j, as: Int8.self)) * Int(ab.load(fromByteOffset: 2 + j, as: Int8.self))
            }
            sum += f16(wb, 0) * f16(ab, 0) * Float(sumi)
        }
        return sum
    }

    /// SIMD fast path of ``q8_0Q8_0Reference(_:_:blocks:)`` in ggml's AVX2 accumulation order.
    @inline(__always)
    public static func q8_0Q8_0(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var acc = SIMD8<Float>()
        for b in 0..<blocks {
            let wb = w + b * 34, ab = a + b * 34
            let w0 = SIMD16<Int16>(truncatingIfNeeded: wb.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self))
            let w1 = SIMD16<Int16>(truncatingIfNeeded: wb.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self))
            let a0 = SIMD16<Int16>(truncatingIfNeeded: ab.loadUnaligned(fromByteOffset: 2, as: SIMD16<Int8>.self))
            let a1 = SIMD16<Int16>(truncatingIfNeeded: ab.loadUnaligned(fromByteOffset: 18, as: SIMD16<Int8>.self))
            // |w·a| ≤ 127·127 fits Int16 per product; fourWaySums widens before adding.
            let lanes = fourWaySums(w0 &* a0, w1 &* a1)
            acc = acc.addingProduct(SIMD8(repeating: f16(wb, 0) * f16(ab, 0)), SIMD8<Float>(lanes))
        }
        return horizontalSum(acc)
    }

    // MARK: - Q5_0 × Q8_0 and Q5_1 × Q8_1 (scalar; not on the SmolLM2 hot path)

    /// Q5_0 weights × Q8_0 activations.
    public static func q5_0Q8_0(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let wb = w + b * 22, ab = a + b * 34
            let qh = wb.loadUnaligned(fromByteOffset: 2, as: UInt32.self)
            var sumi = 0
            for j in 0..<16 {
                let q = wb.load(fromByteOffset: 6 + j, as: UInt8.self)
                let x0 = (Int(q & 0x0F) | (Int((qh >> UInt32(j)) << 4) & 0x10)) - 16
                let x1 = (Int(q >> 4) | (Int(qh >> UInt32(j + 12)) & 0x10)) - 16
                sumi += x0 * Int(ab.load(fromByteOffset: 2 + j, as: Int8.self))
                sumi += x1 * Int(ab.load(fromByteOffset: 18 + j, as: Int8.self))
            }
            sum += f16(wb, 0) * f16(ab, 0) * Float(sumi)
        }
        return sum
    }

    /// Q5_1 weights × Q8_1 activations.
    public static func q5_1Q8_1(_ w: UnsafeRawPointer, _ a: UnsafeRawPointer, blocks: Int) -> Float {
        var sum: Float = 0
        for b in 0..<blocks {
            let wb = w + b * 24, ab = a + b * 36
            let qh = wb.loadUnaligned(fromByteOffset: 4, as: UInt32.self)
            var sumi = 0
            for j in 0..<16 {
                let q = wb.load(fromByteOffset: 8 + j, as: UInt8.self)
                let x0 = Int(q & 0x0F) | (Int((qh >> UInt32(j)) << 4) & 0x10)
                let x1 = Int(q >> 4) | (Int(qh >> UInt32(j + 12)) & 0x10)
                sumi += x0 * Int(ab.load(fromByteOffset: 4 + j, as: Int8.self))
                sumi += x1 * Int(ab.load(fromByteOffset: 20 + j, as: Int8.self))
            }
            sum += f16(wb, 0) * f16(ab, 0) * Float(sumi) + f16(wb, 2) * f16(ab, 2)
        }
        return sum
    }

    // MARK: - Float rows

    /// Plain f32 dot product.
    @inline(__always)
    public static func f32(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
        var acc = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            acc.addProduct(UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self),
                           UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self))
            i += 8
        }
        var s = acc.sum()
        while i < count { s += x[i] * y[i]; i += 1 }
        return s
    }

    /// f16 × f16 dot product in f32, in ggml's AVX-512 order: four 16-lane accumulators over
    /// 64-element steps, reduced pairwise, then a tail accumulated in `Double`.
    @inline(__always)
    public static func f16(_ x: UnsafePointer<Float16>, _ y: UnsafePointer<Float16>, count: Int) -> Float {
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>(), s2 = SIMD16<Float>(), s3 = SIMD16<Float>()
        let steps = count & ~63
        var i = 0
        while i < steps {
            s0 = s0.addingProduct(load16(x + i), load16(y + i))
            s1 = s1.addingProduct(load16(x + i + 16), load16(y + i + 16))
            s2 = s2.addingProduct(load16(x + i + 32), load16(y + i + 32))
            s3 = s3.addingProduct(load16(x + i + 48), load16(y + i + 48))
            i += 64
        }
        var sum = Double(reduce16((s0 + s2) + (s1 + s3)))
        while i < count {
            sum += Double(Float(x[i]) * Float(y[i]))
            i += 1
        }
        return Float(sum)
    }

    /// f16 × f16 dot product with one 16-lane accumulator over 16-element steps (tinyBLAS order);
    /// `count` must be a multiple of 16.
    @inline(__always)
    public static func f16Sequential(_ x: UnsafePointer<Float16>, _ y: UnsafePointer<Float16>, count: Int) -> Float {
        var acc = SIMD16<Float>()
        var i = 0
        while i < count {
            acc = acc.addingProduct(load16(x + i), load16(y + i))
            i += 16
        }
        return reduce16(acc)
    }

    @inline(__always)
    static func load16(_ p: UnsafePointer<Float16>) -> SIMD16<Float> {
        SIMD16<Float>(UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float16>.self))
    }

    /// Sum of 16 lanes in the tree order of GCC's `_mm512_reduce_add_ps`.
    @inline(__always)
    public static func reduce16(_ v: SIMD16<Float>) -> Float {
        let t3 = v.highHalf + v.lowHalf
        let t6 = t3.highHalf + t3.lowHalf
        return (t6[0] + t6[2]) + (t6[1] + t6[3])
    }
}
