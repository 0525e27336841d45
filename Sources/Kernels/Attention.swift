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
        precondition(headDim % 16 == 0, "attend: headDim \(headDim) must be a multiple of 16")
        let group = heads / kvHeads
        let chunks = headDim / 16
        for h in 0..<heads {
            let kvh = h / group
            let q = query + h * headDim
            for i in 0..<headDim { queryHalf[i] = Float16(q[i]) }
            for j in 0..<length {
                let k = keys + j * kvStride + kvh * headDim
                scores[j] = order == .vector
                    ? QuantizedDot.f16(queryHalf, k, count: headDim)
                    : QuantizedDot.f16Sequential(queryHalf, k, count: headDim)
            }
            Elementwise.softmax(scores, count: length, scale: scale)
            // p·V in ggml's order: position j feeds lane j % 64 of 64 lane accumulators (vector
            // order) or lane j % 16 of 16 (sequential order); `accumulators` is [lanes, headDim].
            let laneCount = order == .vector ? 64 : 16
            let lanes = min(length, laneCount)
            accumulators.update(repeating: 0, count: lanes * headDim)
            for j in 0..<length {
                let p = SIMD16<Float>(repeating: Float(Float16(scores[j])))
                let v = values + j * kvStride + kvh * headDim
                let acc = accumulators + (j & (laneCount - 1)) * headDim
                for c in 0..<chunks {
                    let vv = SIMD16<Float>(UnsafeRawPointer(v + 16 * c).loadUnaligned(as: SIMD16<Float16>.self))
                    let old = UnsafeRawPointer(acc + 16 * c).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(acc + 16 * c).storeBytes(of: old.addingProduct(vv, p), as: SIMD16<Float>.self)
                }
            }
            // Reduce the 64 lanes per output dimension: (s0 + s2) + (s1 + s3), then the 16-lane tree
            // (all in registers; lanes never written count as zero, as in ggml).
            let o = out + h * headDim
            let vectorOrder = order == .vector
            for c in 0..<chunks {
                @inline(__always) func lane(_ l: Int) -> SIMD16<Float> {
                    l < lanes ? UnsafeRawPointer(accumulators + l * headDim + 16 * c).loadUnaligned(as: SIMD16<Float>.self) : SIMD16()
                }
                @inline(__always) func x(_ l: Int) -> SIMD16<Float> {
                    vectorOrder ? (lane(l) + lane(32 + l)) + (lane(16 + l) + lane(48 + l)) : lane(l)
                }
                let t6_0 = (x(12) + x(4)) + (x(8) + x(0)), t6_1 = (x(13) + x(5)) + (x(9) + x(1))
                let t6_2 = (x(14) + x(6)) + (x(10) + x(2)), t6_3 = (x(15) + x(7)) + (x(11) + x(3))
                let r = (t6_0 + t6_2) + (t6_1 + t6_3)
                UnsafeMutableRawPointer(o + 16 * c).storeBytes(of: r, as: SIMD16<Float>.self)
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

