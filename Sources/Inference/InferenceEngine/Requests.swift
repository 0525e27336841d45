// SPDX-License-Identifier: Apache-2.0

public import TransformerModels

/// Identifies a request inside the engine.
public typealias RequestID = UInt64

/// What a caller asks the engine to generate.
public struct GenerationRequest: Sendable {
    /// Prompt token ids (already templated and tokenized).
    public var prompt: [Int]
    /// Sampling parameters (temperature 0 = greedy).
    public var sampling: SamplingParameters
    /// Maximum generated tokens.
    public var maxTokens: Int
    /// Stop strings; the output ends right before the first one.
    public var stop: [String]
    /// Keep going past end-of-generation tokens.
    public var ignoreEndOfGeneration: Bool
    /// Return the chosen token's log-probability and this many alternatives per step (nil = none).
    public var logprobs: Int?
    /// Restricts what may be generated (JSON, a choice list, a regex); nil = free text.
    public var constraint: (any OutputConstraint)?
    /// The name of a registered LoRA adapter to apply; nil = the base model.
    public var adapter: String?
    /// Early exit: run only the first `layerLimit` decoder layers, then the final norm and head
    /// (a best-effort quality tier); nil runs the full model. Sequences of different depths share
    /// each step's forward pass: layer `l` runs over the sequences deeper than `l`.
    public var layerLimit: Int?

    /// Creates a request.
    public init(prompt: [Int], sampling: SamplingParameters = .greedy, maxTokens: Int = 256, stop: [String] = [],
                ignoreEndOfGeneration: Bool = false, logprobs: Int? = nil, constraint: (any OutputConstraint)? = nil,
                adapter: String? = nil, layerLimit: Int? = nil) {
        self.layerLimit = layerLimit
        self.prompt = prompt
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stop = stop
        self.ignoreEndOfGeneration = ignoreEndOfGeneration
        self.logprobs = logprobs
        self.constraint = constraint
        self.adapter = adapter
    }
}

/// The log-probability of one generated token and its most likely alternatives.
public struct TokenLogprob: Sendable, Equatable {
    /// Token id.
    public var token: Int
    /// Natural-log probability under the sampling distribution before temperature.
    public var logprob: Float
    /// Most likely alternatives (id, logprob), best first.
    public var top: [(token: Int, logprob: Float)]

    public static func == (a: TokenLogprob, b: TokenLogprob) -> Bool {
        a.token == b.token && a.logprob == b.logprob && a.top.map(\.token) == b.top.map(\.token)
    }
}

/// Events on a request's stream, in order: `.started`, any number of `.token`, then `.finished`.
public enum GenerationEvent: Sendable {
    /// The request was admitted; `cachedPromptTokens` came from the prefix cache.
    case started(promptTokens: Int, cachedPromptTokens: Int)
    /// One generated token and the text it completed (may be empty while a UTF-8 character or a
    /// possible stop string is pending).
    case token(id: Int, text: String, logprob: TokenLogprob?)
    /// The end, with usage counts.
    case finished(FinishReason, promptTokens: Int, completionTokens: Int)
}

/// Errors the engine reports to one caller; the engine keeps serving everyone else.
public enum EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The prompt is empty.
    case emptyPrompt
    /// Prompt plus at least one generated token does not fit the context.
    case promptTooLong(tokens: Int, limit: Int)
    /// A token id outside the vocabulary.
    case invalidToken(Int)
    /// The request can never fit the KV memory.
    case exceedsMemory(tokens: Int, limit: Int)
    /// Too many requests are waiting.
    case overloaded(waiting: Int)
    /// The engine is shutting down.
    case shuttingDown
    /// LoRA adapters are not available yet.
    case unknownAdapter(String)
    /// The scheduler dropped the request from the queue: it waited this many seconds and could
    /// no longer meet the time-to-first-token objective (S-LoRA's early abort).
    case aborted(waitedSeconds: Double)
    /// Invalid request fields.
    case invalidRequest(String)
    /// The model failed on this request.
    case internalError(String)

    public var description: String {
        switch self {
        case .emptyPrompt: "the prompt is empty"
        case .promptTooLong(let n, let limit): "the prompt has \(n) tokens; this model's context allows at most \(limit - 1)"
        case .invalidToken(let t): "token id \(t) is outside the vocabulary"
        case .exceedsMemory(let n, let limit): "the request needs \(n) KV positions but the KV memory holds \(limit)"
        case .overloaded(let n): "the server is overloaded (\(n) requests waiting); retry later"
        case .shuttingDown: "the server is shutting down"
        case .unknownAdapter(let a): "unknown adapter '\(a)'"
        case .aborted(let w): "the request waited \(Int(w * 1000)) ms in the queue and could no longer meet the server's time-to-first-token objective; retry later"
        case .invalidRequest(let s): s
        case .internalError(let s): "internal error: \(s)"
        }
    }
}
