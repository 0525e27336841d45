// SPDX-License-Identifier: Apache-2.0

/// Encodes f32 values in a GGML storage type, by ggml's scalar reference rules
/// (`quantize_row_*_ref`): what re-quantizing a merged weight costs a merge-based LoRA server, and
/// how tests build quantized weights. Types: F32, F16, BF16, Q8_0, Q4_0, Q4_1.
public enum GGMLQuantizer {
    /// Whether ``quantize(_:as:into:)`` can write `type`.
    public static func canEncode(_ type: GGMLType) -> Bool {
        switch type {
        case .f32, .f16, .bf16, .q8_0, .q4_0, .q4_1: true
        default: false
        }
    }

    /// Encodes `x` (a multiple of `type.blockSize` values) into `out`, which holds exactly
    /// `type.byteCount(elements: x.count)` bytes. Allocates nothing.
    ///
    /// - Parameters:
    ///   - x: finite values (the block types' integer conversions trap on NaN or infinity).
    ///   - type: one of the types ``canEncode(_:)`` accepts.
    ///   - out: the encoded blocks, in ggml's layout for `type`.
    public static func quantize(_ x: UnsafeBufferPointer<Float>, as type: GGMLType, into out: UnsafeMutableRawBufferPointer) {
        precondition(canEncode(type), "GGMLQuantizer: \(type) is not supported")
        precondition(x.count % type.blockSize == 0 && out.count == type.byteCount(elements: x.count), "GGMLQuantizer: size mismatch")
        let blocks = x.count / type.blockSize
        func half(_ v: Float, at offset: Int) { out.storeBytes(of: Float16(v).bitPattern.littleEndian, toByteOffset: offset, as: UInt16.self) }
        switch type {
        case .f32:
            for (i, v) in x.enumerated() { out.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
        case .f16:
            for (i, v) in x.enumerated() { half(v, at: 2 * i) }
        case .bf16:
            // Round to nearest even on the dropped 16 bits; NaNs stay NaN (quiet bit set).
            for (i, v) in x.enumerated() {
                let u = v.bitPattern
                let b = v.isNaN ? UInt16(u >> 16) | 0x40 : UInt16((u &+ 0x7FFF &+ ((u >> 16) & 1)) >> 16)
                out.storeBytes(of: b.littleEndian, toByteOffset: 2 * i, as: UInt16.self)
            }
        case .q8_0:
            // Block: f16 d, 32 × int8; d = amax/127.
            for b in 0..<blocks {
                let base = 32 * b, o = 34 * b
                var amax: Float = 0
                for j in 0..<32 { amax = max(amax, abs(x[base + j])) }
                let d = amax / 127, id = d != 0 ? 1 / d : 0
                half(d, at: o)
                for j in 0..<32 { out.storeBytes(of: Int8((x[base + j] * id).rounded()), toByteOffset: o + 2 + j, as: Int8.self) }
            }
        case .q4_0:
            // Block: f16 d, 16 bytes of nibble pairs (j, j+16); d = (signed max)/-8, q = x/d + 8.
            for b in 0..<blocks {
                let base = 32 * b, o = 18 * b
                var maxv: Float = 0, amax: Float = 0
                for j in 0..<32 where abs(x[base + j]) > amax { amax = abs(x[base + j]); maxv = x[base + j] }
                let d = maxv / -8, id = d != 0 ? 1 / d : 0
                half(d, at: o)
                for j in 0..<16 {
                    let q0 = UInt8(min(15, Int8(x[base + j] * id + 8.5)))
                    let q1 = UInt8(min(15, Int8(x[base + j + 16] * id + 8.5)))
                    out.storeBytes(of: q0 | (q1 << 4), toByteOffset: o + 2 + j, as: UInt8.self)
                }
            }
        case .q4_1:
            // Block: f16 d, f16 m (the minimum), 16 bytes of nibble pairs; q = (x − m)/d.
            for b in 0..<blocks {
                let base = 32 * b, o = 20 * b
                var mn = x[base], mx = x[base]
                for j in 1..<32 { mn = min(mn, x[base + j]); mx = max(mx, x[base + j]) }
                let d = (mx - mn) / 15, id = d != 0 ? 1 / d : 0
                half(d, at: o)
                half(mn, at: o + 2)
                for j in 0..<16 {
                    let q0 = UInt8(min(15, Int((x[base + j] - mn) * id + 0.5)))
                    let q1 = UInt8(min(15, Int((x[base + j + 16] - mn) * id + 0.5)))
                    out.storeBytes(of: q0 | (q1 << 4), toByteOffset: o + 4 + j, as: UInt8.self)
                }
            }
        default:
            preconditionFailure("unreachable")
        }
    }

    /// ``quantize(_:as:into:)`` into new bytes.
    public static func quantize(_ x: [Float], as type: GGMLType) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: type.byteCount(elements: x.count))
        x.withUnsafeBufferPointer { src in out.withUnsafeMutableBytes { quantize(src, as: type, into: $0) } }
        return out
    }
}
