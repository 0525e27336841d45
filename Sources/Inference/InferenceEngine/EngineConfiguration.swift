// SPDX-License-Identifier: Apache-2.0

public import TransformerModels

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
    /// Which LoRA adapters stay in pool pages beyond the running requests' (standby, prefetch).
    /// The default loads an adapter on admission; `MultiLoRA.SLoRAResidency` is S-LoRA's prefetch.
    public var adapterResidency: any AdapterResidencyPolicy = OnDemandResidency()
    /// Bytes set aside for LoRA adapter pages in a pool of their own, taken out of
    /// ``kvMemoryBytes``. nil (the default) is S-LoRA's unified paging: KV and adapter pages share
    /// one pool and admission counts both. A number is the "no unified memory" ablation: the KV
    /// pool shrinks by that much and adapters compete only among themselves.
    public var separateAdapterPoolBytes: Int?
    /// How each step's per-token LoRA terms are computed (S-LoRA's gather kernels, or the padded
    /// batched-matmul ablation).
    public var loraBatching: LoRABatching = .gather
    /// The merge-swap baseline: requests' adapters are merged into these weights one adapter at a
    /// time (the engine's model must be `mergeSwap.model`) instead of being applied unmerged; each
    /// step runs only the sequences of one adapter and switching adapters re-merges the weights.
    /// Pair it with ``SingleAdapterScheduler``. nil (default): unmerged LoRA.
    public var mergeSwap: MergeSwapWeights?
    /// A device this engine shares with other engines (the vLLM-packed baseline: one engine per
    /// merged model copy, all on one device): each step waits for its turn. nil (default): the
    /// engine has the machine to itself.
    public var sharedDevice: SharedDevice?

    /// Default configuration.
    public init() {}
}
