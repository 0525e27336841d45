// SPDX-License-Identifier: Apache-2.0

/// Reference dequantization of every supported GGML block format to `Float`.
///
/// These are the plain, obviously-correct decoders that tests compare against `gguf-py`. Model code
/// never dequantizes whole weights; it uses the quantized dot products in `Kernels`, which are tested
/// against these.
public enum Dequantize {
    @inline(__always)
    static func f16(_ p: UnsafeRawPointer, _ byteOffset: Int) -> Float {
        Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: byteOffset, as: UInt16.self)))
    }

    /// Decodes `count` elements of type `type` starting at `src` into `dst`.
    /// `count` must be a multiple of the type's block size.
    public static func row(_ type: GGMLType, _ src: UnsafeRawPointer, into dst: UnsafeMutablePointer<Float>, count: Int) {
        precondition(count % type.blockSize == 0, "dequantize: \(count) is not a multiple of \(type) blocks")
        let blocks = count / type.blockSize
        let ts = type.typeSize
        switch type {
        case .f32:
            for i in 0..<count { dst[i] = Float(bitPattern: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
        case .f16:
            for i in 0..<count { dst[i] = f16(src, 2 * i) }
        case .bf16:
            for i in 0..<count {
                dst[i] = Float(bitPattern: UInt32(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) << 16)
            }
        case .f64:
            for i in 0..<count { dst[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Double.self)) }
        case .i8:
            for i in 0..<count { dst[i] = Float(src.load(fromByteOffset: i, as: Int8.self)) }
        case .i16:
            for i in 0..<count { dst[i] = Float(src.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self)) }
        case .i32:
            for i in 0..<count { dst[i] = Float(src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
        case .i64:
            for i in 0..<count { dst[i] = Float(src.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self)) }
        case .q4_0:
            for b in 0..<blocks {
                let p = src + b * ts, y = dst + b * 32
                let d = f16(p, 0)
                let qs = (p + 2).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    y[j] = Float(Int(qs[j] & 0x0F) - 8) * d
                    y[j + 16] = Float(Int(qs[j] >> 4) - 8) * d
                }
            }
        case .q4_1:
            for b in 0..<blocks {
                let p = src + b * ts, y = dst + b * 32
                let d = f16(p, 0), m = f16(p, 2)
                let qs = (p + 4).assumingMemoryBound(to: UInt8.self)
                for j in 0..<16 {
                    y[j] = Float(qs[j] & 0x0F) * d + m
                    y[j + 16] = Float(qs[j] >> 4) * d + m
                }
            }
        case .q5_0, .q5_1:
            let hasMin = type == .q5_1
            for b in 0..<blocks {
                let p = src + b * ts, y = dst + b * 32
                let d = f16(p, 0)
                let m: Float = hasMin ? f16(p, 2) : 0
                let hOff = hasMin ? 4 : 2
                let qh = p.loadUnaligned(fromByteOffset: hOff, as: UInt32.self)
                let qs = (p + hOff + 4).assumingMemoryBound(to: UInt8.self)
                let bias = hasMin ? 0 : 16
                for j in 0..<16 {
                    let h0 = Int((qh >> UInt32(j)) << 4) & 0x10
                    let h1 = Int(qh >> UInt32(j + 12)) & 0x10
                    let x0 = (Int(qs[j] & 0x0F) | h0) - bias
                    let x1 = (Int(qs[j] >> 4) | h1) - bias
                    // Q5_0 has no min: adding 0 would turn gguf's -0.0 into +0.0.
                    y[j] = hasMin ? Float(x0) * d + m : Float(x0) * d
                    y[j + 16] = hasMin ? Float(x1) * d + m : Float(x1) * d
                }
            }
        case .q8_0:
            for b in 0..<blocks {
                let p = src + b * ts, y = dst + b * 32
                let d = f16(p, 0)
                for j in 0..<32 { y[j] = Float(p.load(fromByteOffset: 2 + j, as: Int8.self)) * d }
            }
        case .q8_1:
            for b in 0..<blocks {
                let p = src + b * ts, y = dst + b * 32
                let d = f16(p, 0)
                for j in 0..<32 { y[j] = Float(p.load(fromByteOffset: 4 + j, as: Int8.self)) * d }
            }
        case .q2_K:
            for b in 0..<blocks {
                let p = src + b * ts
                var y = dst + b * 256
                let scales = p.assumingMemoryBound(to: UInt8.self)
                var q = (p + 16).assumingMemoryBound(to: UInt8.self)
                let d = f16(p, 80), dmin = f16(p, 82)
                var isc = 0
                for _ in 0..<2 {
                    var shift: UInt8 = 0
                    for _ in 0..<4 {
                        for half in 0..<2 {
                            let sc = scales[isc]; isc += 1
                            let dl = d * Float(sc & 0xF), ml = dmin * Float(sc >> 4)
                            for l in 0..<16 { y[l] = dl * Float((q[l + 16 * half] >> shift) & 3) - ml }
                            y += 16
                        }
                        shift += 2
                    }
                    q += 32
                }
            }
        case .q3_K:
            for b in 0..<blocks {
                let p = src + b * ts
                var y = dst + b * 256
                let hm = p.assumingMemoryBound(to: UInt8.self)
                var q = (p + 32).assumingMemoryBound(to: UInt8.self)
                let sraw = (p + 96).assumingMemoryBound(to: UInt8.self)
                let d = f16(p, 108)
                // Unpack 16 6-bit scales from 12 bytes.
                var scales = [Int8](repeating: 0, count: 16)
                for i in 0..<16 {
                    let low: UInt8 = i < 8 ? (sraw[i] & 0x0F) : (sraw[i - 8] >> 4)
                    let high: UInt8 = (sraw[8 + i % 4] >> UInt8(2 * (i / 4))) & 3
                    scales[i] = Int8(bitPattern: low | (high << 4)) - 32
                }
                var isc = 0
                var m: UInt8 = 1
                for _ in 0..<2 {
                    var shift: UInt8 = 0
                    for _ in 0..<4 {
                        for half in 0..<2 {
                            let dl = d * Float(scales[isc]); isc += 1
                            for l in 0..<16 {
                                let k = l + 16 * half
                                let v = Int((q[k] >> shift) & 3) - ((hm[k] & m) != 0 ? 0 : 4)
                                y[l] = dl * Float(v)
                            }
                            y += 16
                        }
                        shift += 2
                        m <<= 1
                    }
                    q += 32
                }
            }
        case .q4_K, .q5_K:
            let five = type == .q5_K
            for b in 0..<blocks {
                let p = src + b * ts
                var y = dst + b * 256
                let d = f16(p, 0), dmin = f16(p, 2)
                let scales = (p + 4).assumingMemoryBound(to: UInt8.self)
                let qh = (p + 16).assumingMemoryBound(to: UInt8.self)  // Q5_K only
                var ql = (p + (five ? 48 : 16)).assumingMemoryBound(to: UInt8.self)
                var u1: UInt8 = 1, u2: UInt8 = 2
                for j in stride(from: 0, to: 8, by: 2) {
                    let (sc1, m1) = scaleMinK4(j, scales)
                    let (sc2, m2) = scaleMinK4(j + 1, scales)
                    let d1 = d * Float(sc1), min1 = dmin * Float(m1)
                    let d2 = d * Float(sc2), min2 = dmin * Float(m2)
                    for l in 0..<32 {
                        let h: Float = five && (qh[l] & u1) != 0 ? 16 : 0
                        y[l] = d1 * (Float(ql[l] & 0x0F) + h) - min1
                    }
                    for l in 0..<32 {
                        let h: Float = five && (qh[l] & u2) != 0 ? 16 : 0
                        y[l + 32] = d2 * (Float(ql[l] >> 4) + h) - min2
                    }
                    y += 64; ql += 32
                    u1 <<= 2; u2 <<= 2
                }
            }
        case .q6_K:
            for b in 0..<blocks {
                let p = src + b * ts
                var y = dst + b * 256
                var ql = p.assumingMemoryBound(to: UInt8.self)
                var qh = (p + 128).assumingMemoryBound(to: UInt8.self)
                var sc = (p + 192).assumingMemoryBound(to: Int8.self)
                let d = f16(p, 208)
                for _ in 0..<2 {
                    for l in 0..<32 {
                        let s = l / 16
                        let q1 = Int((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32
                        let q2 = Int((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32
                        let q3 = Int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32
                        let q4 = Int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32
                        y[l] = d * Float(sc[s]) * Float(q1)
                        y[l + 32] = d * Float(sc[s + 2]) * Float(q2)
                        y[l + 64] = d * Float(sc[s + 4]) * Float(q3)
                        y[l + 96] = d * Float(sc[s + 6]) * Float(q4)
                    }
                    y += 128; ql += 64; qh += 32; sc += 8
                }
            }
        case .q8_K:
            for b in 0..<blocks {
                let p = src + b * ts, y = dst + b * 256
                let d = p.loadUnaligned(as: Float.self)
                for j in 0..<256 { y[j] = d * Float(p.load(fromByteOffset: 4 + j, as: Int8.self)) }
            }
        }
    }

    /// The 6-bit scale and min of sub-block `j` packed in the 12 scale bytes of Q4_K / Q5_K.
    @inline(__always)
    public static func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (UInt8, UInt8) {
        if j < 4 {
            return (q[j] & 63, q[j + 4] & 63)
        }
        return ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
    }
}
