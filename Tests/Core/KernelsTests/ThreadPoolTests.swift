// SPDX-License-Identifier: Apache-2.0

import Foundation
import Kernels
import Synchronization
import Testing

@Suite("One injected thread pool")
struct ThreadPoolTests {
    @Test("OpenBLAS is pinned to one thread when the program loads (no GEMM thread setting exists)")
    func openBLASPinned() {
        #expect(GEMM.openBLASThreads == 1)
    }

    @Test("a job started inside a job runs every index once, inline")
    func nested() {
        let pool = ThreadPool(threads: 3)
        let hits = Mutex([Int](repeating: 0, count: 9))
        pool.run { outer in
            pool.run { inner in hits.withLock { $0[outer * 3 + inner] += 1 } }
        }
        #expect(hits.withLock { $0 } == [Int](repeating: 1, count: 9))
        #expect(pool.tryRun { _ in })
    }

    @Test("concurrent callers of one pool each get every index once")
    func concurrentCallers() async {
        final class Counter: Sendable { let value = Atomic<Int>(0) }
        let pool = ThreadPool(threads: 2)
        let total = Counter()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<200 { pool.run { _ in total.value.add(1, ordering: .relaxed) } }
                }
            }
        }
        let count = total.value.load(ordering: .relaxed)
        #expect(count == 4 * 200 * 2)
    }

    @Test("withCurrent binds the pool for its body only, on this thread and on no other")
    func binding() {
        let pool = ThreadPool(threads: 2)
        #expect(ThreadPool.current == nil)
        let otherSawPool = Atomic<Bool>(true)
        let done = DispatchSemaphore(value: 0)
        pool.withCurrent {
            #expect(ThreadPool.current === pool)
            Thread {
                otherSawPool.store(ThreadPool.current != nil, ordering: .relaxed)
                done.signal()
            }.start()
            done.wait()
        }
        let sawPool = otherSawPool.load(ordering: .relaxed)
        #expect(!sawPool)
        #expect(ThreadPool.current == nil)
    }
}
