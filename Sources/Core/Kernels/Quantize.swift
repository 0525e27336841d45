// SPDX-License-Identifier: Apache-2.0

/// Quantization of activations into 8-bit blocks, the way ggml does before a quantized dot product.
///
/// Layouts (ggml-compatible, little-endian):
/// - Q8_0 block, 34 bytes: `d: f16`, `qs: [Int8; 32]`; value = d * q.
/// - Q8_1 block, 36 bytes: `d: f16`, `s: f16` (= d * Σq), `qs: [Int8; 32]`.
///
/// The scale is `max|x| / 127` and `q = round(x * 127 / max|x|)` with ties to even, matching
/// ggml's AVX2 path so that results agree with llama.cpp bit for bit in the common case.
public enum ActivationQuantization {
    /// Bytes of one Q8_0 block.
    public static let q8_0BlockBytes = 34
    /// Bytes of one Q8_1 block.
    public static let q8_1BlockBytes = 36

    /// Quantizes `count` floats (a multiple of 32) into Q8_0 blocks at `dst`.
    public static func quantizeQ8_0(_ x: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<(count / 32) {
            let xb = x + b * 32
            let out = dst + b * q8_0BlockBytes
            let (d, id) = scale(xb)
            out.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
            let qs = (out + 2).assumingMemoryBound(to: Int8.self)
            for j in 0..<32 { qs[j] = Int8((xb[j] * id).rounded(.toNearestOrEven)) }
        }
    }

    /// Quantizes `count` floats (a multiple of 32) into Q8_1 blocks at `dst`.
    public static func quantizeQ8_1(_ x: UnsafePointer<Float>, into dst: UnsafeMutableRawPointer, count: Int) {
        for b in 0..<(count / 32) {
            let xb = x + b * 32
            let out = dst + b * q8_1BlockBytes
            let (d, id) = scale(xb)
            let qs = (out + 4).assumingMemoryBound(to: Int8.self)
            var sum = 0
            for j in 0..<32 {
                let q = Int8((xb[j] * id).rounded(.toNearestOrEven))
                qs[j] = q
                sum += Int(q)
            }
            out.storeBytes(of: Float16(d).bitPattern, as: UInt16.self)
            out.storeBytes(of: Float16(d * Float(sum)).bitPattern, toByteOffset: 2, as: UInt16.self)
        }
    }

    @inline(__always)
    static func scale(_ xb: UnsafePointer<Float>) -> (d: Float, id: Float) {
        var amax: Float = 0
        for j in 0..<32 { amax = max(amax, abs(xb[j])) }
        return (amax / 127, amax != 0 ? 127 / amax : 0)
    }
}
