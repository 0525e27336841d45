// SPDX-License-Identifier: Apache-2.0

public import Tokenization

/// A decoder-only language model the engine can run: a batched forward pass over a
/// ``ForwardBatch``, per-sequence caches, and the file's hyperparameters.
///
/// The engine, best-effort tiers, LoRA serving and the CLI see models only through this protocol;
/// an architecture is one type conforming to it plus one ``ArchitectureRegistry`` entry.
/// Implementations own their activation buffers and are not reentrant: one forward at a time.
///
/// ```swift
/// let loaded = try ArchitectureRegistry.load(path: "model.gguf", options: .init(threads: 2))
/// var batch = ForwardBatch()
/// let s = batch.addSequence(cache: loaded.model.makeCache(capacity: 256))
/// batch.append(loaded.tokenizer.encode("Hello"), to: s)
/// let logits = try loaded.model.forward(batch)[0]
/// ```
public protocol LanguageModel: AnyObject, Sendable {
    /// The file's `general.architecture`.
    var architecture: String { get }
    /// Hyperparameters from the file.
    var hyperparameters: ModelHyperparameters { get }
    /// Largest number of tokens computed in one internal pass (longer batches are split).
    var maxBatchTokens: Int { get }
    /// Longest sequence (positions) a forward pass can attend over.
    var maxContext: Int { get }

    /// A new, empty cache for one sequence of up to `capacity` positions.
    func makeCache(capacity: Int) -> KVCache

    /// Runs the batch's tokens, appends their keys and values to their caches, and returns one
    /// output row per token whose output flag is set, in token order.
    ///
    /// - Throws: ``ModelError/tokenOutOfRange(_:vocabularySize:)``,
    ///   ``ModelError/contextOverflow(needed:capacity:)``, ``ModelError/badAdapter(_:)``, or
    ///   ``ModelError/invalidArgument(_:)`` for a malformed batch; the caches are unchanged on error.
    func forward(_ batch: ForwardBatch) throws(ModelError) -> ForwardOutput

    /// Throws unless every pair of `adapter` fits this model's layers and projection shapes.
    func check(_ adapter: LoRAAdapter) throws(ModelError)
}

extension LanguageModel {
    /// Runs new tokens of one or more sequences (one ``SequenceChunk`` each) and returns a copy of
    /// each requested logits row (`[vocab]`), in chunk order.
    ///
    /// - Parameter layerLimit: early exit for every chunk (a chunk's own limit applies too).
    public func forward(_ chunks: [SequenceChunk], layerLimit: Int? = nil, loraBatching: LoRABatching = .gather)
        throws(ModelError) -> [[Float]] {
        var rows: [[Float]] = []
        try forward(chunks, layerLimit: layerLimit, loraBatching: loraBatching) { _, _, logits in rows.append(Array(logits)) }
        return rows
    }

    /// Like ``forward(_:layerLimit:loraBatching:)`` but hands each logits row to
    /// `body(chunkIndex, tokenIndex, logits)` without copying, in chunk order.
    public func forward(
        _ chunks: [SequenceChunk], layerLimit: Int? = nil, loraBatching: LoRABatching = .gather,
        body: (Int, Int, UnsafeBufferPointer<Float>) -> Void
    ) throws(ModelError) {
        var batch = ForwardBatch()
        batch.layerLimit = layerLimit
        batch.loraBatching = loraBatching
        var firstToken: [Int] = []  // [chunks]: batch index of each chunk's first token
        for c in chunks {
            let s = batch.addSequence(cache: c.cache, layerLimit: c.layerLimit)
            let adapter = c.adapter.map { batch.addAdapter($0, paged: c.pagedAdapter) } ?? -1
            firstToken.append(batch.count)
            batch.append(c.tokens, to: s, outputs: c.logits, adapter: adapter)
        }
        let out = try forward(batch)
        for r in 0..<out.count {
            let t = out.tokenIndices[r]
            let chunk = batch.sequences[t]
            body(chunk, t - firstToken[chunk], out[r])
        }
    }

    /// Pooled hidden states of token sequences, for non-chat uses (retrieval, features): each
    /// sequence runs through the first `layer` decoder layers (all by default) and the output of
    /// that layer (`[tokens, hidden]`, before the final norm) is pooled into one `[hidden]` vector,
    /// L2-normalised when `normalize` is set.
    ///
    /// Middle layers of small causal models are dominated by a few huge shared dimensions
    /// (SmolLM2-135M at layer 15: cosine above 0.999 between any two sentences); the last layer
    /// separates paraphrases from unrelated text (0.98 vs at most 0.91 in the tests). Must not
    /// run while an engine is stepping this model.
    ///
    /// ```swift
    /// let vectors = try model.embed([tokenizer.encode("a cat"), tokenizer.encode("a dog")], pooling: .mean)
    /// ```
    ///
    /// - Throws: ``ModelError/tokenOutOfRange(_:vocabularySize:)`` for a bad id,
    ///   ``ModelError/invalidArgument(_:)`` for an empty sequence or a layer outside `1...layers`,
    ///   ``ModelError/contextOverflow(needed:capacity:)`` for a sequence longer than the context.
    public func embed(_ sequences: [[Int]], pooling: EmbeddingPooling = .mean, layer: Int? = nil, normalize: Bool = false)
        throws(ModelError) -> [[Float]] {
        let depth = layer ?? hyperparameters.layers
        guard (1...hyperparameters.layers).contains(depth) else {
            throw .invalidArgument("embedding layer \(depth) outside 1...\(hyperparameters.layers)")
        }
        let hidden = hyperparameters.hidden
        var vectors: [[Float]] = []
        vectors.reserveCapacity(sequences.count)
        for tokens in sequences {
            guard !tokens.isEmpty else { throw .invalidArgument("cannot embed an empty token sequence") }
            let cache = makeCache(capacity: tokens.count)
            guard cache.capacity >= tokens.count else { throw .contextOverflow(needed: tokens.count, capacity: cache.capacity) }
            var batch = ForwardBatch()
            batch.layerLimit = depth
            batch.output = .hidden
            batch.append(tokens, to: batch.addSequence(cache: cache), outputs: pooling == .mean ? .all : .last)
            let out = try forward(batch)
            var v = [Float](repeating: 0, count: hidden)  // [hidden]
            switch pooling {
            case .last:
                for j in 0..<hidden { v[j] = out[0][j] }
            case .mean:
                var sum = [Double](repeating: 0, count: hidden)
                for r in 0..<out.count {
                    let row = out[r]
                    for j in 0..<hidden { sum[j] += Double(row[j]) }
                }
                for j in 0..<hidden { v[j] = Float(sum[j] / Double(out.count)) }
            }
            if normalize {
                let norm = v.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
                if norm > 0 { v = v.map { $0 / norm } }
            }
            vectors.append(v)
        }
        return vectors
    }

    /// ``embed(_:pooling:layer:normalize:)`` of texts, tokenized by `tokenizer` (plain text: special
    /// tokens are not parsed, BOS as the vocabulary says).
    public func embed(texts: [String], tokenizer: Tokenizer, pooling: EmbeddingPooling = .mean, layer: Int? = nil,
                      normalize: Bool = false) throws(ModelError) -> [[Float]] {
        try embed(texts.map { tokenizer.encode($0) }, pooling: pooling, layer: layer, normalize: normalize)
    }
}
