// SPDX-License-Identifier: Apache-2.0

public import TransformerModels

/// The unified page pool: every KV page of every sequence comes from here, and so do the pages of
/// the LoRA adapters the running requests use (S-LoRA's unified paging: one memory currency).
///
/// Storage is `[pages, layers, pageSize, kvDim]` f16 for keys and the same for values. Pages are
/// reference-counted so sequences with a common prompt prefix share them: a full page whose
/// content hash (chained over the tokens of every page before it) is registered stays in the
/// prefix cache after its last user releases it, and is evicted least-recently-used first when
/// fresh pages run out.
public final class PagePool: @unchecked Sendable {
    /// Total pages.
    public let pageCount: Int
    /// Positions per page.
    public let pageSize: Int
    let layers: Int
    let kvDim: Int
    let keys: UnsafeMutablePointer<Float16>
    let values: UnsafeMutablePointer<Float16>

    private var refCount: [Int32]
    private var free: [Int32]
    private var hashOfPage: [UInt64?]
    private var pageOfHash: [UInt64: Int32] = [:]
    private var evictable: [Int32: UInt64] = [:]  // page -> last-use tick
    private var tick: UInt64 = 0

    /// Halves in one layer's plane of one page: `pageSize · kvDim` (the block an adapter row must fit in).
    public var blockCapacity: Int { pageSize * kvDim }

    /// One layer's key (`plane` 0) or value (`plane` 1) block of `page`: `[pageSize, kvDim]` halves.
    /// LoRA adapters resident in the pool store their rows here (S-LoRA's unified paging).
    public func block(page: Int32, layer: Int, plane: Int) -> UnsafeMutablePointer<Float16> {
        (plane == 0 ? keys : values) + (Int(page) * layers + layer) * pageSize * kvDim
    }

    /// Bytes one page takes (keys and values of every layer).
    public static func bytesPerPage(layers: Int, kvDim: Int, pageSize: Int) -> Int { 2 * layers * pageSize * kvDim * 2 }

    /// Allocates a pool of `pageCount` pages.
    public init(pageCount: Int, pageSize: Int, layers: Int, kvDim: Int) {
        precondition(pageCount > 0 && pageSize > 0, "PagePool needs pages")
        self.pageCount = pageCount
        self.pageSize = pageSize
        self.layers = layers
        self.kvDim = kvDim
        let elements = pageCount * layers * pageSize * kvDim
        keys = .allocate(capacity: elements)
        values = .allocate(capacity: elements)
        keys.initialize(repeating: 0, count: elements)
        values.initialize(repeating: 0, count: elements)
        refCount = [Int32](repeating: 0, count: pageCount)
        hashOfPage = [UInt64?](repeating: nil, count: pageCount)
        free = (0..<Int32(pageCount)).reversed().map { $0 }
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Pages that can be handed out now (free plus evictable cached pages).
    public var availablePages: Int { free.count + evictable.count }
    /// Pages held by running sequences.
    public var usedPages: Int { pageCount - availablePages }
    /// Pages kept only for the prefix cache.
    public var cachedPages: Int { evictable.count }

    /// Takes a page, evicting the least recently used cached page if no fresh one is left.
    public func allocate() -> Int32? {
        let page: Int32
        if let p = free.popLast() {
            page = p
        } else if let (p, _) = evictable.min(by: { $0.value < $1.value }) {
            evictable.removeValue(forKey: p)
            if let h = hashOfPage[Int(p)] { pageOfHash.removeValue(forKey: h) }
            hashOfPage[Int(p)] = nil
            page = p
        } else {
            return nil
        }
        refCount[Int(page)] = 1
        return page
    }

    /// Drops one reference; an unreferenced page returns to the free list, or to the prefix cache
    /// if it is registered.
    public func release(_ page: Int32) {
        let i = Int(page)
        precondition(refCount[i] > 0, "PagePool.release of unreferenced page \(page)")
        refCount[i] -= 1
        guard refCount[i] == 0 else { return }
        if hashOfPage[i] != nil {
            tick += 1
            evictable[page] = tick
        } else {
            free.append(page)
        }
    }

    /// The cached page holding the content `hash`, retained for the caller; nil on a miss.
    public func lookup(_ hash: UInt64) -> Int32? {
        guard let page = pageOfHash[hash] else { return nil }
        if refCount[Int(page)] == 0 { evictable.removeValue(forKey: page) }
        refCount[Int(page)] += 1
        return page
    }

    /// Forgets every cached prefix: unreferenced cached pages become free, and pages still in use
    /// are no longer found by ``lookup(_:)`` (they return to the free list when released).
    public func dropCache() {
        for (page, _) in evictable { free.append(page) }
        evictable.removeAll()
        pageOfHash.removeAll()
        for i in hashOfPage.indices { hashOfPage[i] = nil }
    }

    /// Records that `page` (full, owned by the caller) holds the content `hash`.
    public func register(_ page: Int32, hash: UInt64) {
        guard pageOfHash[hash] == nil, hashOfPage[Int(page)] == nil else { return }
        pageOfHash[hash] = page
        hashOfPage[Int(page)] = hash
    }

    /// A new paged cache view over this pool's storage (it holds no pages yet).
    public func makeCache() -> KVCache {
        KVCache(layers: layers, kvDim: kvDim, pageSize: pageSize, keys: keys, values: values)
    }

    /// The chained hash of one full page of tokens after a prefix with hash `parent` (FNV-1a).
    public static func hash(parent: UInt64, tokens: ArraySlice<Int>) -> UInt64 {
        var h: UInt64 = parent == 0 ? 0xCBF2_9CE4_8422_2325 : parent
        for t in tokens {
            var v = UInt64(bitPattern: Int64(t))
            for _ in 0..<8 {
                h ^= v & 0xFF
                h = h &* 0x100_0000_01B3
                v >>= 8
            }
        }
        return h == 0 ? 1 : h
    }
}
