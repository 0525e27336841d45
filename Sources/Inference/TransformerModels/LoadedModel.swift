// SPDX-License-Identifier: Apache-2.0

import Foundation
public import GGUF
public import Kernels
public import Tokenization

/// How ``ArchitectureRegistry`` builds a model.
public struct ModelLoadOptions: Sendable {
    /// The pool that runs the model's matrix products and attention; share the process's one pool.
    public var pool: ThreadPool
    /// Largest internal forward pass; longer batches are split.
    public var maxBatchTokens: Int
    /// Longest sequence attention must handle (nil = the trained context).
    public var maxContext: Int?

    /// Options running on `pool`.
    public init(pool: ThreadPool, maxBatchTokens: Int = 512, maxContext: Int? = nil) {
        self.pool = pool
        self.maxBatchTokens = maxBatchTokens
        self.maxContext = maxContext
    }

    /// Options on a new pool of `threads` threads (1 = the caller's thread only).
    public init(threads: Int = 1, maxBatchTokens: Int = 512, maxContext: Int? = nil) {
        self.init(pool: ThreadPool(threads: threads), maxBatchTokens: maxBatchTokens, maxContext: maxContext)
    }

    /// Threads of ``pool``.
    public var threads: Int { pool.threadCount }
}

/// Everything needed to run a GGUF model: the parsed file, the model, its tokenizer and its chat
/// template (after mlx-swift-lm's `ModelContainer`). ``ArchitectureRegistry`` makes these; no
/// caller loads the parts by hand.
///
/// ```swift
/// let loaded = try ArchitectureRegistry.load(path: path, options: ModelLoadOptions(threads: 2))
/// let prompt = loaded.chatTemplate.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true)
/// let ids = loaded.tokenizer.encode(prompt, parseSpecial: true)
/// ```
public final class LoadedModel: Sendable {
    /// Where the file was read from (nil when it came from memory).
    public let path: String?
    /// The parsed, memory-mapped file; the model's weights live in it.
    public let file: GGUFFile
    /// The model.
    public let model: any LanguageModel
    /// The tokenizer described by the file's metadata.
    public let tokenizer: Tokenizer
    /// The chat template detected from `tokenizer.chat_template`.
    public let chatTemplate: ChatTemplate
    /// Wall time spent loading (parse, model, tokenizer), in seconds.
    public let loadSeconds: Double

    init(path: String?, file: GGUFFile, model: any LanguageModel, tokenizer: Tokenizer, loadSeconds: Double) {
        self.path = path
        self.file = file
        self.model = model
        self.tokenizer = tokenizer
        chatTemplate = ChatTemplate.detect(from: file.string("tokenizer.chat_template"))
        self.loadSeconds = loadSeconds
    }

    /// Pooled hidden states of texts (see ``LanguageModel/embed(_:pooling:layer:normalize:)``).
    public func embed(texts: [String], pooling: EmbeddingPooling = .mean, layer: Int? = nil, normalize: Bool = false)
        throws(ModelError) -> [[Float]] {
        try model.embed(texts: texts, tokenizer: tokenizer, pooling: pooling, layer: layer, normalize: normalize)
    }
}
