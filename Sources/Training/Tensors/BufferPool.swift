// SPDX-License-Identifier: Apache-2.0

import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A caching allocator for tensor buffers, keyed by exact element count.
///
/// Training repeats the same shapes every step, so a released buffer is almost always requested
/// again within the same step: caching them removes `malloc`/`free` and page faults from the hot
/// loop and keeps resident memory flat. At most ``limitBytes`` are cached; beyond that buffers are
/// freed.
public enum BufferPool {
    private struct State {
        var free: [Int: [UInt]] = [:]  // element count -> buffer addresses
        var cachedBytes = 0
        var hits = 0
        var misses = 0
    }
    private static let state = Mutex(State())

    /// The most bytes kept cached (default 2 GiB).
    public static let limitBytes = 2 << 30

    /// A buffer of `count` elements (uninitialized, 64-byte aligned).
    static func acquire(_ count: Int) -> UnsafeMutablePointer<Float> {
        let n = max(count, 1)
        let cached = state.withLock { s -> UInt in
            if var list = s.free[n], let p = list.popLast() {
                s.free[n] = list
                s.cachedBytes -= n * 4
                s.hits += 1
                return p
            }
            s.misses += 1
            return 0
        }
        if cached != 0 { return UnsafeMutablePointer(bitPattern: cached)! }
        let raw = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: n)
    }

    static func release(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        let n = max(count, 1)
        let address = UInt(bitPattern: p)
        let kept = state.withLock { s -> Bool in
            guard s.cachedBytes + n * 4 <= limitBytes else { return false }
            s.free[n, default: []].append(address)
            s.cachedBytes += n * 4
            return true
        }
        if !kept { UnsafeMutableRawPointer(p).deallocate() }
    }

    /// Cache statistics: reuse hits, fresh allocations, and bytes held in the cache.
    public static var statistics: (hits: Int, misses: Int, cachedBytes: Int) {
        state.withLock { ($0.hits, $0.misses, $0.cachedBytes) }
    }

    /// Frees every cached buffer.
    public static func trim() {
        let lists = state.withLock { s -> [[UInt]] in
            let l = Array(s.free.values)
            s.free = [:]
            s.cachedBytes = 0
            return l
        }
        for l in lists { for p in l { UnsafeMutableRawPointer(bitPattern: p)!.deallocate() } }
    }
}
