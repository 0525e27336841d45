// SPDX-License-Identifier: Apache-2.0

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
/// ```swift
/// let pool = ThreadPool(threads: 2)
/// pool.run { worker in
///     for row in ThreadPool.range(of: 1000, part: worker, parts: pool.threadCount) { … }
/// }
/// ```
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads that execute a job, including the caller.
    public let threadCount: Int
    private let state: PoolState
    private var threads: [pthread_t] = []

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
    /// Not reentrant: one job at a time, from one caller thread.
    public func run(_ body: (Int) -> Void) {
        if threadCount == 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { escaping in
            state.start(escaping, workers: threadCount - 1)
            escaping(0)
            state.waitAll()
        }
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
private final class PoolState: @unchecked Sendable {
    let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    let wake = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    let finished = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    var generation = 0
    var remaining = 0
    var stopping = false
    var job: ((Int) -> Void)?

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(wake, nil)
        pthread_cond_init(finished, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(wake)
        pthread_cond_destroy(finished)
        mutex.deallocate()
        wake.deallocate()
        finished.deallocate()
    }

    func start(_ body: @escaping (Int) -> Void, workers: Int) {
        pthread_mutex_lock(mutex)
        job = body
        remaining = workers
        generation &+= 1
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
    }

    func waitAll() {
        pthread_mutex_lock(mutex)
        while remaining > 0 { pthread_cond_wait(finished, mutex) }
        job = nil
        pthread_mutex_unlock(mutex)
    }

    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(wake)
        pthread_mutex_unlock(mutex)
    }

    func workerLoop(index: Int) {
        var seen = 0
        pthread_mutex_lock(mutex)
        while true {
            while generation == seen && !stopping { pthread_cond_wait(wake, mutex) }
            if stopping { break }
            seen = generation
            let body = job!
            pthread_mutex_unlock(mutex)
            body(index)
            pthread_mutex_lock(mutex)
            remaining -= 1
            if remaining == 0 { pthread_cond_signal(finished) }
        }
        pthread_mutex_unlock(mutex)
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
