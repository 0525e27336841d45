// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the f16 dot products of attention accumulate: llama.cpp uses ggml's vector kernel
/// (four 16-lane accumulators) for single-token passes and tinyBLAS (one 16-lane accumulator,
/// sequential) when a pass has two or more tokens. Matching it keeps outputs bit-identical.
public enum AccumulationOrder: Sendable {
    /// ggml `vec_dot_f16` order.
    case vector
    /// llamafile tinyBLAS order.
    case sequential
}

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
    ///   - accumulators: scratch `[64, headDim]`.
    public static func attend(
        query: UnsafePointer<Float>, keys: UnsafePointer<Float16>, values: UnsafePointer<Float16>,
        kvStride: Int, length: Int, heads: Int, kvHeads: Int, headDim: Int, scale: Float,
        out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, queryHalf: UnsafeMutablePointer<Float16>,
        accumulators: UnsafeMutablePointer<Float>, order: AccumulationOrder = .vector
    ) {
        // A contiguous cache is one page as long as the sequence: the paged kernel does the work.
        var page: Int32 = 0
        withUnsafePointer(to: &page) { table in
            let k = KVPages(base: keys, pageTable: table, pageSize: max(length, 1), pageStride: 0, rowStride: kvStride)
            let v = KVPages(base: values, pageTable: table, pageSize: max(length, 1), pageStride: 0, rowStride: kvStride)
            attendPaged(query: query, keys: k, values: v, length: length, heads: heads, kvHeads: kvHeads, headDim: headDim,
                        scale: scale, out: out, scores: scores, queryHalf: queryHalf, accumulators: accumulators, order: order)
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

