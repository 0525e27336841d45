// SPDX-License-Identifier: Apache-2.0

import Support
public import Tokenization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Limits and stopping rules for one generation.
public struct GenerationOptions: Sendable {
    /// Stop after this many generated tokens.
    public var maxTokens: Int = 256
    /// Sampling parameters.
    public var sampling: SamplingParameters = SamplingParameters()
    /// Stop when the text contains any of these; the stop string is not part of the result.
    public var stop: [String] = []
    /// Keep going past end-of-generation tokens (for tests and benchmarks).
    public var ignoreEndOfGeneration = false

    /// Creates options.
    public init(maxTokens: Int = 256, sampling: SamplingParameters = SamplingParameters(), stop: [String] = [],
                ignoreEndOfGeneration: Bool = false) {
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stop = stop
        self.ignoreEndOfGeneration = ignoreEndOfGeneration
    }
}

/// Why generation ended.
public enum FinishReason: String, Sendable, Codable {
    /// An end-of-generation token or a stop string.
    case stop
    /// `maxTokens` or the context filled up.
    case length
    /// The caller's callback asked to stop.
    case cancelled
}

/// Wall-clock timings of one generation, llama.cpp style.
public struct GenerationTimings: Sendable, Codable, Equatable {
    /// Prompt evaluation time.
    public var promptMilliseconds: Double = 0
    /// Prompt tokens evaluated.
    public var promptTokens = 0
    /// Time spent generating (after the prompt).
    public var generationMilliseconds: Double = 0
    /// Tokens generated.
    public var generatedTokens = 0

    /// Prompt tokens per second.
    public var promptTokensPerSecond: Double { promptMilliseconds > 0 ? Double(promptTokens) / promptMilliseconds * 1000 : 0 }
    /// Generated tokens per second (the first token's sampling counts as prompt time).
    public var generationTokensPerSecond: Double {
        generationMilliseconds > 0 ? Double(max(generatedTokens - 1, 0)) / generationMilliseconds * 1000 : 0
    }
}

/// The outcome of ``TextGenerator/generate(prompt:options:onText:)``.
public struct GenerationResult: Sendable {
    /// Prompt token ids.
    public var promptTokens: [Int]
    /// Generated token ids (including a final end-of-generation token, if one was produced).
    public var tokens: [Int]
    /// Generated text, without stop strings and end-of-generation tokens.
    public var text: String
    /// Why it stopped.
    public var finishReason: FinishReason
    /// Timings.
    public var timings: GenerationTimings
}

/// Single-sequence generation: prompt evaluation, sampling loop, stop strings and streaming text.
///
/// ```swift
/// let generator = TextGenerator(model: model, tokenizer: tokenizer)
/// let result = try generator.generate(prompt: ids, options: GenerationOptions(maxTokens: 32)) { piece in
///     print(piece, terminator: ""); return true
/// }
/// ```
public final class TextGenerator {
    /// The model.
    public let model: any LanguageModel
    /// The tokenizer.
    public let tokenizer: Tokenizer
    /// The sequence's cache; kept between calls so a chat can continue (see ``generate(prompt:options:reuseCache:onText:)``).
    public let cache: KVCache
    private var cachedTokens: [Int] = []

    /// Creates a generator with a cache of `contextSize` positions.
    public init(model: any LanguageModel, tokenizer: Tokenizer, contextSize: Int = 2048) {
        self.model = model
        self.tokenizer = tokenizer
        cache = model.makeCache(capacity: contextSize)
    }

    /// Generates a continuation of `prompt`.
    ///
    /// - Parameters:
    ///   - reuseCache: keep the cached positions that match the start of `prompt` (multi-turn chat).
    ///   - onText: receives text as it becomes final (never half a character, never part of a stop
    ///     string); return false to stop.
    /// - Throws: ``ModelError`` when the prompt is invalid or does not fit the context.
    public func generate(
        prompt: [Int], options: GenerationOptions, reuseCache: Bool = false, onText: (String) -> Bool = { _ in true }
    ) throws -> GenerationResult {
        guard !prompt.isEmpty else { throw ModelError.badHyperparameter("empty prompt") }
        guard prompt.count < cache.capacity else { throw ModelError.contextOverflow(needed: prompt.count + 1, capacity: cache.capacity) }
        var common = 0
        if reuseCache {
            let limit = min(cachedTokens.count, cache.count, prompt.count - 1)
            while common < limit && cachedTokens[common] == prompt[common] { common += 1 }
        }
        cache.truncate(to: common)
        cachedTokens = Array(prompt[..<common])

        var stream = GenerationStream(prompt: prompt, options: options, tokenizer: tokenizer)
        var timings = GenerationTimings()
        var text = ""
        var finish = FinishReason.length

        var start = now()
        var next = 0
        try model.forward([SequenceChunk(cache: cache, tokens: Array(prompt[common...]))]) { _, _, logits in
            next = stream.sample(logits)
        }
        cachedTokens = prompt
        timings.promptMilliseconds = now() - start
        timings.promptTokens = prompt.count - common
        start = now()

        while stream.generated < options.maxTokens {
            let step = stream.accept(next)
            if !step.text.isEmpty {
                text += step.text
                if !onText(step.text) && step.finish != .stop {
                    finish = .cancelled
                    break
                }
            }
            if let reason = step.finish {
                finish = reason
                break
            }
            if cache.count + 1 > cache.capacity { break }  // the context is full: .length
            try model.forward([SequenceChunk(cache: cache, tokens: [next])]) { _, _, logits in
                next = stream.sample(logits)
            }
            cachedTokens.append(stream.tokens.last!)  // the token just fed to the cache
        }
        if finish != .stop {  // text held back for a possible stop string is final after all
            let rest = stream.flush()
            if !rest.isEmpty {
                text += rest
                _ = onText(rest)
            }
        }
        timings.generationMilliseconds = now() - start
        timings.generatedTokens = stream.generated
        return GenerationResult(promptTokens: prompt, tokens: Array(stream.tokens[prompt.count...]), text: text,
                                finishReason: finish, timings: timings)
    }

    /// Forgets the cached conversation.
    public func reset() {
        cache.reset()
        cachedTokens.removeAll()
    }
}

/// Milliseconds on a monotonic clock.
@inline(__always) func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
}
