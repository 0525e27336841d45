// SPDX-License-Identifier: Apache-2.0

/// The keys and values of one sequence, stored in half precision (as llama.cpp's default cache).
///
/// Layout per layer: `[capacity, kvHeads · headDim]` for keys and the same for values. ``count``
/// positions are valid; a forward pass appends at ``count``.
public final class KVCache: @unchecked Sendable {
    /// Positions that fit.
    public let capacity: Int
    /// Positions currently stored.
    public internal(set) var count = 0
    let layers: Int
    let kvDim: Int
    let keys: UnsafeMutablePointer<Float16>    // [layers, capacity, kvDim]
    let values: UnsafeMutablePointer<Float16>  // [layers, capacity, kvDim]

    /// Allocates a cache for `capacity` positions of a model with these hyperparameters.
    public init(hyperparameters hp: LlamaHyperparameters, capacity: Int) {
        self.capacity = capacity
        layers = hp.layers
        kvDim = hp.kvDim
        keys = .allocate(capacity: layers * capacity * kvDim)
        values = .allocate(capacity: layers * capacity * kvDim)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    /// Forgets every position (the memory is reused).
    public func reset() { count = 0 }

    /// Keeps only the first `n` positions (e.g. to reuse a shared prompt prefix).
    public func truncate(to n: Int) {
        precondition(n >= 0 && n <= count, "KVCache.truncate(to: \(n)) with \(count) positions")
        count = n
    }

    @inline(__always) func keyRow(layer: Int, position: Int) -> UnsafeMutablePointer<Float16> {
        keys + (layer * capacity + position) * kvDim
    }

    @inline(__always) func valueRow(layer: Int, position: Int) -> UnsafeMutablePointer<Float16> {
        values + (layer * capacity + position) * kvDim
    }
}
