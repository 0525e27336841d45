// SPDX-License-Identifier: Apache-2.0

import Support
public import Tokenization

/// The output side of one generation, the same for ``TextGenerator`` (`tern generate`, `tern chat`)
/// and the serving engine's sequences: sampling over the token history, end-of-generation tokens,
/// the token limit, streaming detokenization (never half a character) and stop strings (never part
/// of one in the text).
///
/// Hand it each logits row with ``sample(_:)`` and the chosen token with ``accept(_:)``; when the
/// generation ends for a reason other than ``FinishReason/stop``, ``flush()`` returns the text still
/// held back.
///
/// ```swift
/// var stream = GenerationStream(prompt: ids, options: GenerationOptions(maxTokens: 32), tokenizer: tokenizer)
/// let step = stream.accept(stream.sample(logits))
/// print(step.text, terminator: "")
/// ```
public struct GenerationStream: Sendable {
    /// What one accepted token produced.
    public struct Step: Sendable, Equatable {
        /// Text that became final with this token (possibly empty).
        public var text: String
        /// Why the generation is over, or nil while it goes on.
        public var finish: FinishReason?

        /// A step's outcome.
        public init(text: String, finish: FinishReason?) {
            self.text = text
            self.finish = finish
        }
    }

    /// Prompt then generated tokens: the sampler's history.
    public private(set) var tokens: [Int]
    /// Prompt length.
    public let promptCount: Int
    /// Bytes of the generated text so far (output constraints check these).
    public private(set) var outputBytes: [UInt8] = []
    private var sampler: Sampler
    private var detokenizer: StreamingDetokenizer
    private var stopMatcher: StopStringMatcher
    private let tokenizer: Tokenizer
    private let maxTokens: Int
    private let ignoreEndOfGeneration: Bool

    /// Generated tokens so far.
    public var generated: Int { tokens.count - promptCount }

    /// A stream continuing `prompt` under `options`.
    public init(prompt: [Int], options: GenerationOptions, tokenizer: Tokenizer) {
        tokens = prompt
        promptCount = prompt.count
        sampler = Sampler(options.sampling)
        detokenizer = StreamingDetokenizer(tokenizer: tokenizer)
        stopMatcher = StopStringMatcher(options.stop)
        self.tokenizer = tokenizer
        maxTokens = options.maxTokens
        ignoreEndOfGeneration = options.ignoreEndOfGeneration
    }

    /// Samples the next token from `logits` (`[vocab]`) with the stream's sampler and history.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
        sampler.sample(logits, history: tokens)
    }

    /// Appends `token` and returns the text it made final and whether the generation is over:
    /// `.stop` at an end-of-generation token (the held-back text is included) or at a stop string
    /// (the text before it is included, the rest dropped), `.length` at the token limit.
    public mutating func accept(_ token: Int) -> Step {
        tokens.append(token)
        if !ignoreEndOfGeneration && tokenizer.endOfGenerationIDs.contains(token) {
            return Step(text: flush(), finish: .stop)
        }
        let bytes = tokenizer.bytes(of: token, special: false)
        outputBytes.append(contentsOf: bytes)
        let (text, stopped) = stopMatcher.append(detokenizer.append(bytes: bytes))
        if stopped { return Step(text: text, finish: .stop) }
        return Step(text: text, finish: generated >= maxTokens ? .length : nil)
    }

    /// The text still held back (a possible start of a stop string, an incomplete character),
    /// final now; empty after the first call.
    public mutating func flush() -> String {
        stopMatcher.flush() + detokenizer.finish()
    }
}
