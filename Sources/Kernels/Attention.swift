// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Causal scaled-dot-product attention of one query token over a half-precision KV cache.
///
/// Numerics follow ggml's non-flash path: the query is rounded to f16 before `q·k`, scores are
/// scaled and soft-maxed in f32, and the probabilities are rounded to f16 before `p·v`.
public enum Attention {
    /// Attends `heads` query heads to `length` cached positions, with grouped-query sharing
    /// (`heads / kvHeads` query heads per KV head).
    ///
    /// - Parameters:
    ///   - query: `[heads, headDim]`.
    ///   - keys: `[length, kvHeads, headDim]`, rows `kvStride` elements apart.
    ///   - values: same layout as `keys`.
    ///   - out: `[heads, headDim]`.
    ///   - scores: scratch `[length]`.
    ///   - queryHalf: scratch `[headDim]`.
    public static func attend(
        query: UnsafePointer<Float>, keys: UnsafePointer<Float16>, values: UnsafePointer<Float16>,
        kvStride: Int, length: Int, heads: Int, kvHeads: Int, headDim: Int, scale: Float,
        out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, queryHalf: UnsafeMutablePointer<Float16>
    ) {
        let group = heads / kvHeads
        for h in 0..<heads {
            let kvh = h / group
            let q = query + h * headDim
            for i in 0..<headDim { queryHalf[i] = Float16(q[i]) }
            for j in 0..<length {
                scores[j] = QuantizedDot.f16(queryHalf, keys + j * kvStride + kvh * headDim, count: headDim)
            }
            Elementwise.softmax(scores, count: length, scale: scale)
            let o = out + h * headDim
            for i in 0..<headDim { o[i] = 0 }
            for j in 0..<length {
                let p = Float(Float16(scores[j]))
                let v = values + j * kvStride + kvh * headDim
                var i = 0
                while i + 8 <= headDim {
                    let vv = SIMD8<Float>(UnsafeRawPointer(v + i).loadUnaligned(as: SIMD8<Float16>.self))
                    var oo = UnsafeRawPointer(o + i).loadUnaligned(as: SIMD8<Float>.self)
                    oo.addProduct(vv, SIMD8(repeating: p))
                    UnsafeMutableRawPointer(o + i).storeBytes(of: oo, as: SIMD8<Float>.self)
                    i += 8
                }
                while i < headDim { o[i] += p * Float(v[i]); i += 1 }
            }
        }
    }

    /// Naive reference of ``attend(query:keys:values:kvStride:length:heads:kvHeads:headDim:scale:out:scores:queryHalf:)``
    /// in `Double`, with the same f16 roundings. Used by parity tests.
    public static func reference(
        query: [Float], keys: [Float16], values: [Float16], kvStride: Int, length: Int,
        heads: Int, kvHeads: Int, headDim: Int, scale: Float
    ) -> [Float] {
        var out = [Double](repeating: 0, count: heads * headDim)
        let group = heads / kvHeads
        for h in 0..<heads {
            let kvh = h / group
            var s = [Double](repeating: 0, count: length)
            for j in 0..<length {
                var d = 0.0
                for i in 0..<headDim {
                    d += Double(Float(Float16(query[h * headDim + i]))) * Double(Float(keys[j * kvStride + kvh * headDim + i]))
                }
                s[j] = d * Double(scale)
            }
            let m = s.max() ?? 0
            let e = s.map { exp($0 - m) }
            let z = e.reduce(0, +)
            for j in 0..<length {
                let p = Double(Float(Float16(Float(e[j] / z))))
                for i in 0..<headDim { out[h * headDim + i] += p * Double(Float(values[j * kvStride + kvh * headDim + i])) }
            }
        }
        return out.map { Float($0) }
    }
}

