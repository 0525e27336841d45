// SPDX-License-Identifier: Apache-2.0

internal import CKernels
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of persistent worker threads that run one data-parallel job at a time.
///
/// ``run(_:)`` calls the job once per thread with the thread's index; the caller's thread is
/// index 0, so a pool of one thread runs everything inline. CPU-bound work belongs here, never on
/// Swift's cooperative pool (on 2 cores it would starve everything else).
///
/// A process creates its pool once and hands it on: to a model through its load options, and to
/// tensor kernels for the duration of ``withCurrent(_:)``. There is no process-wide pool, and
/// OpenBLAS never starts threads of its own (it is pinned to one when the program loads).
///
/// ```swift
/// let pool = ThreadPool(threads: 2)
/// pool.run { worker in
///     for row in ThreadPool.range(of: 1000, part: worker, parts: pool.threadCount) { … }
/// }
/// try pool.withCurrent { try train(network) }  // tensor kernels split their loops on `pool`
/// ```
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads that execute a job, including the caller.
    public let threadCount: Int
    private let state: PoolState
    private var threads: [pthread_t] = []
    /// Held while a job runs; a nested or concurrent caller that finds it taken runs inline.
    private let busy = Atomic<Bool>(false)

    /// The pool tensor kernels split their loops on: bound by ``withCurrent(_:)`` for the calling
    /// task or thread; nil runs every loop on the caller's thread.
    @TaskLocal public static var current: ThreadPool?

    /// Creates a pool with `threads` threads in total (the caller plus `threads - 1` workers).
    public init(threads: Int) {
        precondition(threads >= 1, "ThreadPool needs at least one thread")
        threadCount = threads
        state = PoolState()
        for i in 1..<threads {
            let box = Unmanaged.passRetained(WorkerContext(state: state, index: i))
            var tid = pthread_t()
            let rc = pthread_create(&tid, nil, { raw in
                let ctx = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                ctx.state.workerLoop(index: ctx.index)
                return nil
            }, box.toOpaque())
            precondition(rc == 0, "pthread_create failed: \(rc)")
            self.threads.append(tid)
        }
    }

    deinit {
        state.stop()
        for t in threads { pthread_join(t, nil) }
    }

    /// Runs `body(worker)` for every worker index in `0..<threadCount` and returns when all are done.
    ///
    /// One job at a time: a call made while another job runs (nested in a job, or from another
    /// thread) calls `body` for every index in turn on its own thread instead.
    public func run(_ body: (Int) -> Void) {
        if !tryRun(body) {
            for w in 0..<threadCount { body(w) }
        }
    }

    /// Runs `body(worker)` on every thread of the pool, like ``run(_:)``, and returns true; returns
    /// false without calling `body` when the pool is already running a job.
    public func tryRun(_ body: (Int) -> Void) -> Bool {
        if threadCount == 1 {
            body(0)
            return true
        }
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        withoutActuallyEscaping(body) { escaping in
            state.start(escaping, workers: threadCount - 1)
            escaping(0)
            state.waitAll()
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    /// Runs `body` with this pool as ``current`` (for tensor kernels on this task or thread).
    public func withCurrent<R>(_ body: () throws -> R) rethrows -> R {
        try ThreadPool.$current.withValue(self, operation: body)
    }

    /// Splits `0..<count` into `parts` nearly equal contiguous ranges and returns range `part`.
    @inline(__always)
    public static func range(of count: Int, part: Int, parts: Int) -> Range<Int> {
        let base = count / parts, extra = count % parts
        let start = part * base + min(part, extra)
        return start..<(start + base + (part < extra ? 1 : 0))
    }
}

/// The shared state of a pool; workers retain this, not the pool, so the pool can deinit.
///
/// Spin-then-park: a job is published by bumping `generation` (after storing `job`); idle workers
/// spin on it for a while (a decode step dispatches ~250 jobs a few microseconds apart, far
/// cheaper to catch spinning than through a futex wake-up), then park on a condition variable.
/// `sleepers` is raised before a parking worker re-checks `generation`, and read after the caller
/// bumps it, so a wake-up is never lost (both sequentially consistent).
private final class PoolState: @unchecked Sendable {
    /// Spin iterations (`pause`, ~20 ns each here) before a worker parks: on the order of 100 µs.
    static let spinLimit = 5_000

    let generation = Atomic<Int>(0)
    let remaining = Atomic<Int>(0)
    let sleepers = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // Written by the caller before `generation` is released; read by workers after acquiring it.
    nonisolated(unsafe) var job: ((Int) -> Void)?

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(wake)
        mutex.deallocate()
        wake.deallocate()
    }

    func start(_ body: @escaping (Int) -> Void, workers: Int) {
        job = body
        remaining.store(workers, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
            pthread_mutex_lock(mutex)
            pthread_cond_broadcast(wake)
            pthread_mutex_unlock(mutex)
        }
    }

    func waitAll() {
        var spins = 0
        while remaining.load(ordering: .acquiring) > 0 {
            spins += 1
            if spins < 4_096 { tern_spin_pause() } else { sched_yield() }
        }
        job = nil
    }

    func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
    }

    func workerLoop(index: Int) {
        var seen = 0
        while true {
            var spins = 0
            var g = generation.load(ordering: .acquiring)
            while g == seen {
                spins += 1
                if spins < Self.spinLimit {
                    tern_spin_pause()
                } else {
                    pthread_mutex_lock(mutex)
                    sleepers.add(1, ordering: .sequentiallyConsistent)
                    while generation.load(ordering: .sequentiallyConsistent) == seen { pthread_cond_wait(wake, mutex) }
                    sleepers.subtract(1, ordering: .sequentiallyConsistent)
                    pthread_mutex_unlock(mutex)
                    spins = 0
                }
                g = generation.load(ordering: .acquiring)
            }
            seen = g
            if stopping.load(ordering: .acquiring) { return }
            job!(index)
            remaining.subtract(1, ordering: .releasing)
        }
    }
}

private final class WorkerContext {
    let state: PoolState
    let index: Int
    init(state: PoolState, index: Int) {
        self.state = state
        self.index = index
    }
}
