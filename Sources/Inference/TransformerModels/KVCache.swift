// SPDX-License-Identifier: Apache-2.0

public import Kernels

/// The keys and values of one sequence, in half precision (as llama.cpp's default cache), stored
/// in pages.
///
/// Storage layout: `[pages, layers, pageSize, kvDim]` for keys and the same for values. A
/// *contiguous* cache owns one page as large as its capacity; a *paged* cache borrows pages from a
/// shared pool (the serving engine's unified page pool) through ``pageTable``, which its owner grows.
/// ``count`` positions are valid; a forward pass appends at ``count``.
public final class KVCache: @unchecked Sendable {
    /// Positions currently stored.
    public internal(set) var count = 0
    /// Positions per page.
    public let pageSize: Int
    /// Page ids in position order (grown by the owner of a paged cache).
    public var pageTable: [Int32] {
        didSet { tableChanged() }
    }
    let layers: Int
    let kvDim: Int
    let keys: UnsafeMutablePointer<Float16>
    let values: UnsafeMutablePointer<Float16>
    let layerStride: Int  // elements between layers within a page
    let pageStride: Int   // elements between pages
    private let ownsStorage: Bool
    // A stable copy of `pageTable` for the kernels.
    private(set) var table: UnsafeMutablePointer<Int32>
    private var tableCapacity: Int

    /// Positions that fit in the pages held.
    public var capacity: Int { pageTable.count * pageSize }

    /// A contiguous cache of `capacity` positions that owns its memory.
    public init(hyperparameters hp: ModelHyperparameters, capacity: Int) {
        layers = hp.layers
        kvDim = hp.kvDim
        pageSize = max(capacity, 1)
        layerStride = pageSize * kvDim
        pageStride = layers * layerStride
        keys = .allocate(capacity: pageStride)
        values = .allocate(capacity: pageStride)
        ownsStorage = true
        tableCapacity = 1
        table = .allocate(capacity: 1)
        pageTable = [0]
        table[0] = 0
    }

    /// A paged cache over shared storage laid out `[pages, layers, pageSize, kvDim]`; it starts
    /// with no pages.
    public init(layers: Int, kvDim: Int, pageSize: Int, keys: UnsafeMutablePointer<Float16>, values: UnsafeMutablePointer<Float16>) {
        self.layers = layers
        self.kvDim = kvDim
        self.pageSize = pageSize
        layerStride = pageSize * kvDim
        pageStride = layers * layerStride
        self.keys = keys
        self.values = values
        ownsStorage = false
        tableCapacity = 16
        table = .allocate(capacity: 16)
        pageTable = []
    }

    deinit {
        if ownsStorage {
            keys.deallocate()
            values.deallocate()
        }
        table.deallocate()
    }

    private func tableChanged() {
        if pageTable.count > tableCapacity {
            table.deallocate()
            tableCapacity = max(pageTable.count, tableCapacity * 2)
            table = .allocate(capacity: tableCapacity)
        }
        for (i, p) in pageTable.enumerated() { table[i] = p }
    }

    /// Forgets every position (the memory is kept).
    public func reset() { count = 0 }

    /// Keeps only the first `n` positions (e.g. to reuse a shared prompt prefix).
    public func truncate(to n: Int) {
        precondition(n >= 0 && n <= count, "KVCache.truncate(to: \(n)) with \(count) positions")
        count = n
    }

    /// Appends `n` positions whose keys and values a model has just written (a ``LanguageModel``
    /// calls this for each sequence of a forward pass).
    public func advance(by n: Int) {
        precondition(n >= 0 && count + n <= capacity, "KVCache.advance(by: \(n)) with \(count) of \(capacity) positions")
        count += n
    }

    /// Marks the first `n` positions as already computed (their pages were filled elsewhere, e.g.
    /// shared from the prefix cache).
    public func assumeComputed(_ n: Int) {
        precondition(n >= 0 && n <= capacity, "KVCache.assumeComputed(\(n)) with capacity \(capacity)")
        count = n
    }

    @inline(__always) func keyRow(layer: Int, position: Int) -> UnsafeMutablePointer<Float16> {
        keys + Int(table[position / pageSize]) * pageStride + layer * layerStride + (position % pageSize) * kvDim
    }

    @inline(__always) func valueRow(layer: Int, position: Int) -> UnsafeMutablePointer<Float16> {
        values + Int(table[position / pageSize]) * pageStride + layer * layerStride + (position % pageSize) * kvDim
    }

    func keyPages(layer: Int) -> KVPages {
        KVPages(base: keys + layer * layerStride, pageTable: table, pageSize: pageSize, pageStride: pageStride, rowStride: kvDim)
    }

    func valuePages(layer: Int) -> KVPages {
        KVPages(base: values + layer * layerStride, pageTable: table, pageSize: pageSize, pageStride: pageStride, rowStride: kvDim)
    }
}
