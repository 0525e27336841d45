// SPDX-License-Identifier: Apache-2.0

public import GGUF

/// A decoder's hyperparameters, read once from GGUF metadata (`<arch>.*` keys); every
/// ``LanguageModel`` exposes them, and caches and adapters are sized by them.
public struct ModelHyperparameters: Sendable, Equatable {
    /// Transformer blocks.
    public var layers: Int
    /// Model width.
    public var hidden: Int
    /// Feed-forward width.
    public var feedForward: Int
    /// Query heads.
    public var heads: Int
    /// Key/value heads (grouped-query attention when fewer than `heads`).
    public var kvHeads: Int
    /// Vocabulary size.
    public var vocabularySize: Int
    /// Trained context length.
    public var contextLength: Int
    /// RMSNorm epsilon.
    public var rmsEpsilon: Float
    /// RoPE frequency base.
    public var ropeBase: Float
    /// Rotated dimensions per head.
    public var ropeDimensions: Int

    /// Dimensions per head.
    public var headDim: Int { hidden / heads }
    /// Width of the K and V projections.
    public var kvDim: Int { kvHeads * headDim }

    /// Reads hyperparameters for `arch` from `file`'s metadata.
    public init(file: GGUFFile, arch: String) throws(ModelError) {
        func int(_ k: String) throws(ModelError) -> Int {
            guard let v = file.int("\(arch).\(k)"), v > 0 else { throw .badHyperparameter("\(arch).\(k)") }
            return v
        }
        layers = try int("block_count")
        hidden = try int("embedding_length")
        feedForward = try int("feed_forward_length")
        heads = try int("attention.head_count")
        kvHeads = file.int("\(arch).attention.head_count_kv") ?? heads
        contextLength = file.int("\(arch).context_length") ?? 2048
        rmsEpsilon = Float(file.double("\(arch).attention.layer_norm_rms_epsilon") ?? 1e-5)
        ropeBase = Float(file.double("\(arch).rope.freq_base") ?? 10000)
        let tokenCount = file.metadata["tokenizer.ggml.tokens"]?.arrayValue?.count
        vocabularySize = file.int("\(arch).vocab_size") ?? tokenCount ?? file.tensor(named: GGUFTensorName.tokenEmbedding)?.rowCount ?? 0
        ropeDimensions = file.int("\(arch).rope.dimension_count") ?? (hidden / heads)
        guard hidden % heads == 0 else { throw .badHyperparameter("\(arch).embedding_length % head_count") }
        guard kvHeads > 0, heads % kvHeads == 0 else { throw .badHyperparameter("\(arch).attention.head_count_kv") }
        guard vocabularySize > 0 else { throw .badHyperparameter("\(arch).vocab_size") }
        guard ropeDimensions <= headDim, ropeDimensions % 2 == 0 else { throw .badHyperparameter("\(arch).rope.dimension_count") }
    }
}
