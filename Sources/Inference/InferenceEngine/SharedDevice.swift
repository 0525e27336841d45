// SPDX-License-Identifier: Apache-2.0

import Dispatch
import Synchronization

/// One compute device shared by several engines, as model replicas share one GPU: an engine holds
/// it for one step (one batched forward pass with its scheduling), and engines waiting for it take
/// it in the order they asked, so engines with work step round-robin. Give every engine the same
/// instance through ``EngineConfiguration/sharedDevice`` and load their models on one `ThreadPool`
/// (`ModelLoadOptions(pool:)`): only the holder runs on it.
public final class SharedDevice: Sendable {
    private struct State {
        var held = false
        /// Engines waiting for a turn, first asker first.
        var queue: [DispatchSemaphore] = []
        var turns = 0
        /// Holders at once: 1 while held (checked on every hand-over).
        var holders = 0
    }
    private let state = Mutex(State())

    /// A device nobody holds.
    public init() {}

    /// Turns completed on the device so far (all engines).
    public var turns: Int { state.withLock { $0.turns } }

    /// Blocks until the caller holds the device. `wake` is the caller's own semaphore (initial value
    /// 0); it is signalled when an earlier holder hands the device over.
    func acquire(wake: DispatchSemaphore) {
        let mustWait = state.withLock { s -> Bool in
            if !s.held { s.held = true; s.holders += 1; return false }
            s.queue.append(wake)
            return true
        }
        if mustWait {
            wake.wait()
            state.withLock { $0.holders += 1 }
        }
        precondition(state.withLock { $0.holders } == 1, "SharedDevice: two holders at once")
    }

    /// Hands the device to the longest waiter, or frees it.
    func release() {
        state.withLock { s in
            s.turns += 1
            s.holders -= 1
            if s.queue.isEmpty { s.held = false } else { s.queue.removeFirst().signal() }
        }
    }

    /// Runs `body` holding the device: it waits for the holders that asked before it.
    ///
    /// ```swift
    /// let device = SharedDevice()
    /// let sum = device.withTurn { 1 + 1 }   // no other holder runs meanwhile
    /// ```
    public func withTurn<T>(_ body: () throws -> T) rethrows -> T {
        try withTurn(wake: DispatchSemaphore(value: 0), body)
    }

    /// ``withTurn(_:)`` with the caller's own semaphore (an engine keeps one for all its turns).
    func withTurn<T>(wake: DispatchSemaphore, _ body: () throws -> T) rethrows -> T {
        acquire(wake: wake)
        defer { release() }
        return try body()
    }
}
