// SPDX-License-Identifier: Apache-2.0

import Support
import Foundation
import GGUF
import InferenceEngine
import TestSupport
import Testing
import TransformerModels

/// Property tests of the page allocator: random operation sequences checked against a model of
/// who holds which page, and random serving workloads (adapters, cancellations, a pool too small
/// for everything) that must give every page back when idle.
@Suite("Page allocator properties")
struct AllocatorPropertyTests {
    @Test("random allocate/release/register/lookup/drop sequences: no page handed out twice, counts exact, all free at the end",
          arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func poolOperations(seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        let pageCount = Int.random(in: 1...12, using: &rng)
        let pool = PagePool(pageCount: pageCount, pageSize: 4, layers: 1, kvDim: 8)
        var refs: [Int32: Int] = [:]           // page -> references the test holds
        var hashOf: [Int32: UInt64] = [:]      // page -> content hash it is registered under
        var pageOf: [UInt64: Int32] = [:]      // hash -> page, while findable
        var nextHash: UInt64 = 1
        func forget(_ p: Int32) {
            if let h = hashOf.removeValue(forKey: p) { pageOf.removeValue(forKey: h) }
        }
        for step in 0..<2000 {
            switch Int.random(in: 0..<100, using: &rng) {
            case 0..<35:
                if let p = pool.allocate() {
                    #expect(refs[p] == nil, "step \(step): page \(p) handed out while referenced")
                    forget(p)  // a free page, or a cached one evicted: its content is gone
                    refs[p] = 1
                } else {
                    #expect(refs.count == pageCount, "step \(step): allocation failed with \(pageCount - refs.count) pages unreferenced")
                }
            case 35..<70:
                guard let p = refs.keys.randomElement(using: &rng) else { continue }
                pool.release(p)
                refs[p]! -= 1
                if refs[p] == 0 { refs[p] = nil }
            case 70..<82:
                guard let p = refs.keys.randomElement(using: &rng) else { continue }
                let h = nextHash
                nextHash += 1
                pool.register(p, hash: h)
                if hashOf[p] == nil { hashOf[p] = h; pageOf[h] = p }  // a page keeps its first registration
            case 82..<97:
                let h = UInt64.random(in: 1...max(1, nextHash), using: &rng)
                let found = pool.lookup(h)
                #expect(found == pageOf[h], "step \(step): lookup of \(h)")
                if let p = found { refs[p, default: 0] += 1 }
            default:
                pool.dropCache()
                hashOf.removeAll()
                pageOf.removeAll()
            }
            #expect(pool.usedPages == refs.count, "step \(step)")
            #expect(pool.availablePages == pageCount - refs.count, "step \(step)")
        }
        for (p, n) in refs { for _ in 0..<n { pool.release(p) } }
        #expect(pool.usedPages == 0 && pool.availablePages == pageCount)
    }

    /// A residency policy that loads every queued adapter it sees, as early as it can: the most
    /// loading ahead any policy could ask of the engine's mechanism.
    struct GreedyPrefetch: AdapterResidencyPolicy {
        var lookahead: Int { 16 }
        func keepsStandby(neededByQueue: Bool) -> Bool { neededByQueue }
        func prefetch(_ state: AdapterResidencyState) -> [UInt64] { state.queued.compactMap { $0.flatMap { $0.resident ? nil : $0.adapter } } }
    }

    @Test("random serving workloads with adapters, cancellations, loading ahead and a small pool end with every page free",
          arguments: [(11, false, false), (12, false, true), (13, true, false), (14, true, true)] as [(UInt64, Bool, Bool)])
    func servingWorkload(seed: UInt64, separatePool: Bool, prefetch: Bool) async throws {
        let (engine, _, _) = try tinyEngine(kvMemory: 1 << 20, maxBatch: 16, maxRunning: 6, adapters: { m in
            FixedAdapters(try (0..<6).map { i in
                try LoRAAdapter.synthetic(name: "l\(i)", hyperparameters: m.hyperparameters, rank: [2, 4, 8][i % 3],
                                          targets: i % 2 == 0 ? [.q, .v] : LoRAAdapter.Target.allCases, magnitude: 0.5, seed: UInt64(i))
            })
        }) { c in
            if separatePool { c.separateAdapterPoolBytes = c.kvMemoryBytes / 3 }
            if prefetch { c.adapterResidency = GreedyPrefetch() }
        }
        defer { engine.shutdown() }
        var rng = SeededRandom(seed: seed)
        var jobs: [(GenerationRequest, cancelAfter: Int?)] = []
        for i in 0..<24 {
            var r = GenerationRequest(prompt: (0..<Int.random(in: 3...40, using: &rng)).map { _ in Int.random(in: 3...250, using: &rng) },
                                      maxTokens: Int.random(in: 1...12, using: &rng))
            r.ignoreEndOfGeneration = true
            let pick = Int.random(in: 0..<8, using: &rng)
            r.adapter = pick < 6 ? "l\(pick)" : nil
            jobs.append((r, i % 5 == 0 ? Int.random(in: 0...3, using: &rng) : nil))
        }
        let finished = await withTaskGroup(of: Bool.self) { group in
            for (r, cancelAfter) in jobs {
                group.addTask {
                    guard let stream = try? engine.submit(r) else { return false }
                    var tokens = 0
                    do {
                        for try await e in stream {
                            if case .token = e { tokens += 1 }
                            if let c = cancelAfter, tokens > c { return false }  // dropping the stream cancels it
                        }
                    } catch { return false }
                    return true
                }
            }
            var n = 0
            for await ok in group where ok { n += 1 }
            return n
        }
        let uncancelled = jobs.filter { $0.cancelAfter == nil }.count
        // Unified: everything not cancelled completes (a short one may finish before its cancel). Separate pool: an adapter larger than the
        // adapter pool fails (clearly), the rest completes.
        #expect(separatePool ? finished > 0 : finished >= uncancelled, "\(finished) of \(uncancelled) finished")
        var stats = engine.drainStats()
        for _ in 0..<500 where stats.running > 0 || stats.waiting > 0 || stats.residentAdapters > 0 || stats.usedPages > 0 {
            try await Task.sleep(for: .milliseconds(20))
            stats = engine.drainStats()
        }
        #expect(stats.usedPages == 0, "KV pages still held when idle")
        #expect(stats.residentAdapters == 0 && stats.adapterPages == 0, "adapters still resident when idle")
    }
}
