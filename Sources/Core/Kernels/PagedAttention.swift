// SPDX-License-Identifier: Apache-2.0

internal import CKernels

/// Where one layer's keys or values live in a paged KV store.
///
/// Position `j` is row `j % pageSize` of page `pageTable[j / pageSize]`; its `kvHeads · headDim`
/// elements start at `base + page · pageStride + (j % pageSize) · rowStride`. A contiguous cache is
/// one page as large as the context.
public struct KVPages {
    /// Start of page 0 for this layer.
    public var base: UnsafePointer<Float16>
    /// Page ids in position order.
    public var pageTable: UnsafePointer<Int32>
    /// Positions per page.
    public var pageSize: Int
    /// Elements between the starts of consecutive page ids.
    public var pageStride: Int
    /// Elements between consecutive positions within a page.
    public var rowStride: Int

    /// Creates a page view.
    public init(base: UnsafePointer<Float16>, pageTable: UnsafePointer<Int32>, pageSize: Int, pageStride: Int, rowStride: Int) {
        self.base = base
        self.pageTable = pageTable
        self.pageSize = pageSize
        self.pageStride = pageStride
        self.rowStride = rowStride
    }

    /// The row of position `j`.
    @inline(__always)
    public func row(_ j: Int) -> UnsafePointer<Float16> {
        base + Int(pageTable[j / pageSize]) * pageStride + (j % pageSize) * rowStride
    }
}

extension Attention {
    /// ``attend(query:keys:values:kvStride:length:heads:kvHeads:headDim:scale:out:scores:queryHalf:accumulators:order:)``
    /// over a paged cache: identical arithmetic, rows found through a page table (PagedAttention).
    ///
    /// On AVX2 CPUs the dot products and the value accumulation run in `CKernels`
    /// (`tern_attn_*`), bit-identical to ``attendPagedSwift(query:keys:values:length:heads:kvHeads:headDim:scale:out:scores:queryHalf:accumulators:order:)``.
    /// `level` overrides the detected tier (parity tests).
    ///
    /// - Parameters:
    ///   - query: `[heads, headDim]`.
    ///   - out: `[heads, headDim]`.
    ///   - scores: scratch `[length]`.
    ///   - queryHalf: scratch `[headDim]` (the Swift path only).
    ///   - accumulators: scratch `[64, headDim]`.
    public static func attendPaged(
        query: UnsafePointer<Float>, keys: KVPages, values: KVPages, length: Int,
        heads: Int, kvHeads: Int, headDim: Int, scale: Float,
        out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, queryHalf: UnsafeMutablePointer<Float16>,
        accumulators: UnsafeMutablePointer<Float>, order: AccumulationOrder,
        level: SIMDKernels.Level = SIMDKernels.detected
    ) {
        guard level >= .avx2 else {
            attendPagedSwift(query: query, keys: keys, values: values, length: length, heads: heads, kvHeads: kvHeads,
                             headDim: headDim, scale: scale, out: out, scores: scores, queryHalf: queryHalf,
                             accumulators: accumulators, order: order)
            return
        }
        precondition(headDim % 16 == 0 && headDim <= Int(TERN_ATTN_MAX_HEAD_DIM),
                     "attendPaged: headDim \(headDim) must be a multiple of 16, at most \(TERN_ATTN_MAX_HEAD_DIM)")
        let group = heads / kvHeads
        let ord: Int32 = order == .vector ? 0 : 1
        let kBase = UnsafeRawPointer(keys.base).assumingMemoryBound(to: UInt16.self)
        let vBase = UnsafeRawPointer(values.base).assumingMemoryBound(to: UInt16.self)
        for h in 0..<heads {
            let offset = Int64((h / group) * headDim)
            tern_attn_scores_f16(query + h * headDim, kBase, keys.pageTable, Int64(keys.pageSize), Int64(keys.pageStride),
                                 Int64(keys.rowStride), offset, Int32(length), Int32(headDim), ord, scores)
            Elementwise.softmax(scores, count: length, scale: scale)
            tern_attn_values_f16(scores, vBase, values.pageTable, Int64(values.pageSize), Int64(values.pageStride),
                                 Int64(values.rowStride), offset, Int32(length), Int32(headDim), ord,
                                 accumulators, out + h * headDim)
        }
    }

    /// The portable Swift kernel of ``attendPaged(query:keys:values:length:heads:kvHeads:headDim:scale:out:scores:queryHalf:accumulators:order:level:)``,
    /// and the parity reference of its C path.
    public static func attendPagedSwift(
        query: UnsafePointer<Float>, keys: KVPages, values: KVPages, length: Int,
        heads: Int, kvHeads: Int, headDim: Int, scale: Float,
        out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>, queryHalf: UnsafeMutablePointer<Float16>,
        accumulators: UnsafeMutablePointer<Float>, order: AccumulationOrder
    ) {
        precondition(headDim % 16 == 0, "attendPaged: headDim \(headDim) must be a multiple of 16")
        let group = heads / kvHeads
        let chunks = headDim / 16
        let laneCount = order == .vector ? 64 : 16
        let lanes = min(length, laneCount)
        for h in 0..<heads {
            let kvh = h / group
            let q = query + h * headDim
            for i in 0..<headDim { queryHalf[i] = Float16(q[i]) }
            for j in 0..<length {
                let k = keys.row(j) + kvh * headDim
                scores[j] = order == .vector
                    ? QuantizedDot.f16(queryHalf, k, count: headDim)
                    : QuantizedDot.f16Sequential(queryHalf, k, count: headDim)
            }
            Elementwise.softmax(scores, count: length, scale: scale)
            accumulators.update(repeating: 0, count: lanes * headDim)
            for j in 0..<length {
                let p = SIMD16<Float>(repeating: Float(Float16(scores[j])))
                let v = values.row(j) + kvh * headDim
                let acc = accumulators + (j & (laneCount - 1)) * headDim
                for c in 0..<chunks {
                    let vv = SIMD16<Float>(UnsafeRawPointer(v + 16 * c).loadUnaligned(as: SIMD16<Float16>.self))
                    let old = UnsafeRawPointer(acc + 16 * c).loadUnaligned(as: SIMD16<Float>.self)
                    UnsafeMutableRawPointer(acc + 16 * c).storeBytes(of: old.addingProduct(vv, p), as: SIMD16<Float>.self)
                }
            }
            let o = out + h * headDim
            for c in 0..<chunks {
                @inline(__always) func lane(_ l: Int) -> SIMD16<Float> {
                    l < lanes ? UnsafeRawPointer(accumulators + l * headDim + 16 * c).loadUnaligned(as: SIMD16<Float>.self) : SIMD16()
                }
                var t3 = (SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(),
                          SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>(), SIMD16<Float>())
                @inline(__always) func x(_ l: Int) -> SIMD16<Float> {
                    order == .vector ? (lane(l) + lane(32 + l)) + (lane(16 + l) + lane(48 + l)) : lane(l)
                }
                t3.0 = x(8) + x(0); t3.1 = x(9) + x(1); t3.2 = x(10) + x(2); t3.3 = x(11) + x(3)
                t3.4 = x(12) + x(4); t3.5 = x(13) + x(5); t3.6 = x(14) + x(6); t3.7 = x(15) + x(7)
                let t6 = (t3.4 + t3.0, t3.5 + t3.1, t3.6 + t3.2, t3.7 + t3.3)
                let r = (t6.0 + t6.2) + (t6.1 + t6.3)
                UnsafeMutableRawPointer(o + 16 * c).storeBytes(of: r, as: SIMD16<Float>.self)
            }
        }
    }
}
