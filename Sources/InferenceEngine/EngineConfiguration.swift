// SPDX-License-Identifier: Apache-2.0

/// How the serving engine is sized. Everything has a sensible default for a 135M model on a laptop.
public struct EngineConfiguration: Sendable {
    /// Threads for matrix products.
    public var threads: Int = 2
    /// Token budget per step: prefill chunks and decode tokens together (vLLM's `max_num_batched_tokens`).
    public var maxBatchTokens: Int = 512
    /// Most sequences running at once.
    public var maxRunningSequences: Int = 64
    /// Most requests allowed to wait; more are refused with ``EngineError/overloaded(waiting:)``.
    public var maxWaitingRequests: Int = 256
    /// Bytes of KV memory (the page pool).
    public var kvMemoryBytes: Int = 256 << 20
    /// Positions per KV page.
    public var pageSize: Int = 16
    /// Longest sequence (prompt + output) in positions; defaults to the model's trained context, capped at 8192.
    public var contextSize: Int?
    /// Reuse KV pages of identical prompt prefixes.
    public var prefixCaching = true
    /// Load queued requests' LoRA adapters into free pool pages ahead of admission (S-LoRA's prefetch).
    public var prefetchAdapters = true

    /// Default configuration.
    public init() {}
}
