// SPDX-License-Identifier: Apache-2.0

/// One forward pass over tokens of one or more sequences, as parallel per-token arrays (after
/// llama.cpp's `llama_batch`): token `i` is `tokens[i]` at `positions[i]` of the sequence in slot
/// `sequences[i]`, running with adapter slot `adapterSlots[i]` (-1 = the base model), and
/// `outputs[i]` says whether it produces an output row.
///
/// Per sequence slot the batch holds the slot's cache and its early-exit depth. A slot's tokens
/// are one contiguous run at consecutive positions starting at its cache's `count`; the model
/// appends their keys and values to that cache. Build it with ``addSequence(cache:layerLimit:)``,
/// ``addAdapter(_:paged:)`` and ``append(_:to:outputs:adapter:)``:
///
/// ```swift
/// var batch = ForwardBatch()
/// let s = batch.addSequence(cache: cache)
/// batch.append(promptIDs, to: s, outputs: .last)
/// let out = try model.forward(batch)
/// let logits = out[0]  // [vocab], valid until the model's next forward
/// ```
public struct ForwardBatch {
    // Per token, all of the same length.
    /// Token ids.
    public var tokens: [Int] = []
    /// Absolute positions of the tokens in their sequences.
    public var positions: [Int] = []
    /// Sequence slot of each token (an index into ``caches``).
    public var sequences: [Int] = []
    /// Whether each token produces an output row (logits, or hidden states with ``output`` `.hidden`).
    public var outputs: [Bool] = []
    /// Adapter slot of each token (an index into ``adapters``), -1 for the base model.
    public var adapterSlots: [Int] = []

    // Per sequence slot.
    /// Each slot's cache.
    public var caches: [KVCache] = []
    /// Each slot's early exit: run only its first `n` decoder layers (nil = all).
    public var layerLimits: [Int?] = []

    /// The LoRA adapters tokens refer to.
    public var adapters: [BatchAdapter] = []
    /// How the LoRA terms of tokens with different adapters are computed.
    public var loraBatching: LoRABatching = .gather
    /// Early exit for the whole batch (each slot's own limit applies too; the smaller wins).
    public var layerLimit: Int? = nil
    /// What output rows hold.
    public var output: OutputKind = .logits

    /// What a forward pass returns for each token whose ``outputs`` flag is set.
    public enum OutputKind: Sendable {
        /// `[vocab]` logits after the final norm and head.
        case logits
        /// `[hidden]` residual stream after the last decoder layer run (before the final norm).
        case hidden
    }

    /// A LoRA adapter in a batch, with its pool-page copy when it is resident there.
    public struct BatchAdapter {
        /// The adapter's host weights.
        public let adapter: LoRAAdapter
        /// The same weights in pool pages (f16 rows); when set the forward reads these.
        public let paged: PagedLoRA?
    }

    /// Tokens already added per slot (the next position of slot `s` is `caches[s].count + queued[s]`).
    private var queued: [Int] = []

    /// An empty batch.
    public init() {}

    /// Number of tokens.
    public var count: Int { tokens.count }
    /// Whether the batch holds no tokens.
    public var isEmpty: Bool { tokens.isEmpty }

    /// Adds a sequence slot and returns its index.
    public mutating func addSequence(cache: KVCache, layerLimit: Int? = nil) -> Int {
        caches.append(cache)
        layerLimits.append(layerLimit)
        queued.append(0)
        return caches.count - 1
    }

    /// Adds an adapter and returns its slot; the same instance (and paged copy) added twice shares a slot.
    public mutating func addAdapter(_ adapter: LoRAAdapter, paged: PagedLoRA? = nil) -> Int {
        if let i = adapters.firstIndex(where: { $0.adapter === adapter && $0.paged === paged }) { return i }
        adapters.append(BatchAdapter(adapter: adapter, paged: paged))
        return adapters.count - 1
    }

    /// Appends `ids` to sequence slot `sequence` at its next positions.
    /// - Parameter outputs: which of these tokens produce output rows.
    public mutating func append(_ ids: [Int], to sequence: Int, outputs: LogitsRequest = .last, adapter: Int = -1) {
        let start = caches[sequence].count + queued[sequence]
        for (i, id) in ids.enumerated() {
            tokens.append(id)
            positions.append(start + i)
            sequences.append(sequence)
            self.outputs.append(outputs == .all || (outputs == .last && i == ids.count - 1))
            adapterSlots.append(adapter)
        }
        queued[sequence] += ids.count
    }

    /// Appends one token with every field given explicitly (llama.cpp's `common_batch_add`).
    public mutating func append(token: Int, position: Int, sequence: Int, output: Bool, adapter: Int = -1) {
        tokens.append(token)
        positions.append(position)
        sequences.append(sequence)
        outputs.append(output)
        adapterSlots.append(adapter)
        if sequence < queued.count { queued[sequence] += 1 }
    }
}

/// The output rows of a forward pass, one per token whose output flag was set, in token order.
///
/// A view of the model's own buffer: valid until the model's next forward pass. Copy a row
/// (`Array(out[i])`) to keep it.
public struct ForwardOutput {
    /// Batch index of the token behind each row.
    public let tokenIndices: [Int]
    /// Floats per row: the vocabulary for logits, the model width for hidden states.
    public let width: Int
    let base: UnsafePointer<Float>  // [rows, width]

    /// Number of rows.
    public var count: Int { tokenIndices.count }

    /// Row `i` (`[width]`).
    public subscript(i: Int) -> UnsafeBufferPointer<Float> {
        precondition(i >= 0 && i < tokenIndices.count, "output row \(i) out of 0..<\(tokenIndices.count)")
        return UnsafeBufferPointer(start: base + i * width, count: width)
    }

    /// Wraps rows a model computed.
    public init(tokenIndices: [Int], width: Int, base: UnsafePointer<Float>) {
        self.tokenIndices = tokenIndices
        self.width = width
        self.base = base
    }
}
