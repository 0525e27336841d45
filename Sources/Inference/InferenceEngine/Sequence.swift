// SPDX-License-Identifier: Apache-2.0

import Foundation
import Support
import Tokenization
import TransformerModels

/// One request inside the engine: its tokens, cache, sampler and output state. Engine-thread only.
final class Sequence {
    let id: RequestID
    let request: GenerationRequest
    let cache: KVCache
    let tokenizer: Tokenizer
    let continuation: EngineCore.Continuation
    /// Sampling, stop strings and detokenization: the same as `tern generate`'s.
    var stream: GenerationStream
    var promptCount: Int { stream.promptCount }
    /// Prompt then generated tokens.
    var tokens: [Int] { stream.tokens }
    /// Generated tokens so far.
    var generated: Int { stream.generated }
    var pageHashes: [UInt64] = []
    /// The LoRA adapter the sequence runs with, resolved at submission.
    var adapter: LoRAAdapter?
    /// The adapter's weights in KV-position equivalents (S-LoRA's unified currency).
    var adapterPositions = 0
    /// Whether the sequence counts as a user of its adapter's resident pages.
    var holdsAdapter = false
    /// Decoder layers this sequence runs (early exit); nil = the full model.
    var layerLimit: Int? { request.layerLimit }
    /// The prefix-cache hash chain starts here: 0 for the full base model, otherwise a value per
    /// adapter instance and per early-exit depth, so pages computed under a different adapter or
    /// depth never match (a page of a shallow sequence has no KV for the deeper layers).
    var hashSeed: UInt64 {
        var h: UInt64 = adapter.map { 0x9E37_79B9_7F4A_7C15 &* ($0.instanceID | 1) } ?? 0
        if let depth = layerLimit { h = (h ^ 0xD6E8_FEB8_6659_FD93) &* UInt64(depth + 1) &+ 0x2545_F491_4F6C_DD1D }
        return h
    }
    var started = false
    var cachedPromptTokens = 0
    var preemptions = 0
    var pendingFinish: FinishReason?
    var arrival = Date()
    var firstTokenTime: Date?
    var lastTokenTime: Date?
    private var finished = false

    init(id: RequestID, request: GenerationRequest, cache: KVCache, tokenizer: Tokenizer, continuation: EngineCore.Continuation) {
        self.id = id
        self.request = request
        self.cache = cache
        self.tokenizer = tokenizer
        self.continuation = continuation
        stream = GenerationStream(
            prompt: request.prompt,
            options: GenerationOptions(maxTokens: request.maxTokens, sampling: request.sampling, stop: request.stop,
                                       ignoreEndOfGeneration: request.ignoreEndOfGeneration),
            tokenizer: tokenizer)
    }

    /// Picks the next token, honouring the output constraint if any.
    func choose(_ logits: UnsafeBufferPointer<Float>) -> Int {
        let token = chooseToken(logits)
        if let k = request.logprobs { pendingLogprob = Sequence.logprob(logits, token: token, top: k) }
        return token
    }

    private func chooseToken(_ logits: UnsafeBufferPointer<Float>) -> Int {
        guard let constraint = request.constraint else { return stream.sample(logits) }
        let outputBytes = stream.outputBytes
        // Best-first candidates; check lazily until enough valid ones are found.
        let eog = tokenizer.endOfGenerationIDs
        let complete = constraint.isComplete(outputBytes)
        var order = Array(0..<logits.count)
        let want = request.sampling.temperature <= 0 ? 1 : max(1, min(request.sampling.topK > 0 ? request.sampling.topK : 40, 40))
        order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
        var allowed: [Int] = []
        for id in order {
            if eog.contains(id) {
                if complete { allowed.append(id) }
            } else {
                let bytes = tokenizer.bytes(of: id, special: false)
                if !bytes.isEmpty && constraint.isValidPrefix(outputBytes + bytes) { allowed.append(id) }
            }
            if allowed.count >= want { break }
        }
        guard !allowed.isEmpty else { return eog.first ?? 0 }
        if allowed.count == 1 { return allowed[0] }
        var masked = [Float](repeating: -.infinity, count: logits.count)
        for id in allowed { masked[id] = logits[id] }
        return masked.withUnsafeBufferPointer { stream.sample($0) }
    }

    /// Appends a sampled token, streams its text and decides whether the sequence is done.
    func accept(_ token: Int, contextSize: Int) {
        let logprob = pendingLogprob
        pendingLogprob = nil
        let step = stream.accept(token)
        emit(token: token, text: step.text, logprob: logprob)
        // An end-of-generation token or stop string ends it first, then a closed constraint, then the limits.
        if step.finish == .stop {
            pendingFinish = .stop
        } else if let c = request.constraint, c.isClosed(stream.outputBytes) {
            pendingFinish = .stop
        } else if step.finish == .length || tokens.count >= contextSize {
            pendingFinish = .length
        }
    }

    private var pendingLogprob: TokenLogprob?

    /// Log-softmax (temperature 1, before any masking) of `token` and of the `top` best tokens.
    static func logprob(_ logits: UnsafeBufferPointer<Float>, token: Int, top: Int) -> TokenLogprob {
        let lse = logSumExp(logits)
        var best: [(token: Int, logprob: Float)] = []
        if top > 0 {
            var heap: [(Int, Float)] = []
            for (i, l) in logits.enumerated() {
                if heap.count < top {
                    heap.append((i, l))
                    if heap.count == top { heap.sort { $0.1 > $1.1 } }
                } else if l > heap[top - 1].1 {
                    heap[top - 1] = (i, l)
                    heap.sort { $0.1 > $1.1 }
                }
            }
            heap.sort { $0.1 > $1.1 }
            best = heap.map { ($0.0, $0.1 - lse) }
        }
        return TokenLogprob(token: token, logprob: logits[token] - lse, top: best)
    }

    private func emit(token: Int, text: String, logprob: TokenLogprob?) {
        continuation.yield(.token(id: token, text: text, logprob: logprob))
    }

    func finish(_ reason: FinishReason) {
        guard !finished else { return }
        finished = true
        if reason != .stop {
            let rest = stream.flush()
            if !rest.isEmpty { continuation.yield(.token(id: -1, text: rest, logprob: nil)) }
        }
        continuation.yield(.finished(reason, promptTokens: promptCount, completionTokens: generated))
        continuation.finish()
    }

    func fail(_ error: EngineError) {
        guard !finished else { return }
        finished = true
        continuation.finish(throwing: error)
    }
}
