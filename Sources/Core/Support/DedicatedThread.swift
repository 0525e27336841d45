// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Runs `body` on a new thread of its own and returns its result: CPU-bound work (training,
/// timing a model) must not occupy Swift's cooperative pool, which has one thread per core and
/// also runs everything else that awaits.
///
/// ```swift
/// let accuracy = try await onDedicatedThread { train(network) }
/// ```
public func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (k: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            do { k.resume(returning: try body()) } catch { k.resume(throwing: error) }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}
