// SPDX-License-Identifier: Apache-2.0

/// A LoRA adapter resident in KV pool pages (S-LoRA's unified paging): every row of every `A`
/// and `Bᵀ` is stored as f16, contiguous inside one page block, and found through a pointer
/// table (the gather of S-LoRA's kernels).
///
/// Blocks are the pool's per-layer page planes: a page gives each layer two blocks (its key plane
/// and its value plane) of `pageSize · kvDim` halves, so an adapter's pages hold, in every layer,
/// that layer's rows, the way one KV slot spans all layers. Rows never straddle blocks; a row
/// longer than a block cannot be paged (``blocksNeeded(for:blockCapacity:)`` returns nil).
public final class PagedLoRA: @unchecked Sendable {
    /// One paged projection.
    public struct Pair {
        public let rank: Int
        public let inputs: Int
        public let outputs: Int
        public let scale: Float
        /// `rank` pointers to rows of A (`inputs` halves each).
        public let aRows: UnsafePointer<UnsafePointer<Float16>>
        /// `rank` pointers to rows of Bᵀ (`outputs` halves each).
        public let bRows: UnsafePointer<UnsafePointer<Float16>>
    }

    /// The host adapter this was packed from.
    public let adapter: LoRAAdapter
    /// `[layer][Target.rawValue]`.
    public let pairs: [[Pair?]]
    private let table: UnsafeMutablePointer<UnsafePointer<Float16>>

    /// Blocks each layer needs to hold `adapter`'s rows, or nil when a row exceeds a block.
    public static func blocksNeeded(for adapter: LoRAAdapter, blockCapacity: Int) -> Int? {
        var most = 0
        for row in adapter.pairs {
            var blocks = 0, offset = blockCapacity  // forces a first block
            for pair in row.compactMap({ $0 }) {
                for length in Array(repeating: pair.inputs, count: pair.rank) + Array(repeating: pair.outputs, count: pair.rank) {
                    guard length <= blockCapacity else { return nil }
                    if offset + length > blockCapacity {
                        blocks += 1
                        offset = 0
                    }
                    offset += length
                }
            }
            most = max(most, blocks)
        }
        return most
    }

    /// Packs `adapter` into blocks: `block(layer, i)` returns block `i` (of ``blocksNeeded(for:blockCapacity:)``)
    /// of `layer`, with room for `blockCapacity` halves. Values are rounded to f16.
    public init(adapter: LoRAAdapter, blockCapacity: Int, block: (_ layer: Int, _ index: Int) -> UnsafeMutablePointer<Float16>) {
        self.adapter = adapter
        let rows = adapter.pairs.joined().compactMap { $0 }.reduce(0) { $0 + 2 * $1.rank }
        table = .allocate(capacity: max(rows, 1))
        var next = 0
        var pairs: [[Pair?]] = []
        for (layer, row) in adapter.pairs.enumerated() {
            var blockIndex = -1, offset = blockCapacity
            func place(_ values: ArraySlice<Float>) -> UnsafePointer<Float16> {
                precondition(values.count <= blockCapacity, "PagedLoRA: a row of \(values.count) exceeds a block of \(blockCapacity)")
                if offset + values.count > blockCapacity {
                    blockIndex += 1
                    offset = 0
                }
                let dst = block(layer, blockIndex) + offset
                for (i, v) in values.enumerated() { dst[i] = Float16(v) }
                offset += values.count
                return UnsafePointer(dst)
            }
            var layerPairs: [Pair?] = []
            for p in row {
                guard let p else {
                    layerPairs.append(nil)
                    continue
                }
                let aStart = next
                for r in 0..<p.rank { table[next] = place(p.a[(r * p.inputs)..<((r + 1) * p.inputs)]); next += 1 }
                let bStart = next
                for r in 0..<p.rank { table[next] = place(p.bT[(r * p.outputs)..<((r + 1) * p.outputs)]); next += 1 }
                layerPairs.append(Pair(rank: p.rank, inputs: p.inputs, outputs: p.outputs, scale: p.scale,
                                       aRows: UnsafePointer(table + aStart), bRows: UnsafePointer(table + bStart)))
            }
            pairs.append(layerPairs)
        }
        self.pairs = pairs
    }

    deinit { table.deallocate() }

    /// The paged pair for `target` in `layer`.
    @inline(__always)
    public func pair(layer: Int, _ target: LoRAAdapter.Target) -> Pair? { pairs[layer][target.rawValue] }
}
