// SPDX-License-Identifier: Apache-2.0

import Foundation
import InferenceEngine
public import OpenAIAPI
import Tokenization
import TransformerModels

/// `/v1/completions`: validation into a ``ChatService/PreparedCompletion`` and the one mapping
/// from engine events to text-completion responses.
extension ChatService {
    /// A completion request checked and turned into engine terms.
    struct PreparedCompletion {
        var prompt: [Int]
        var common: Common
        var echo: Bool
        var promptText: String
        var constraint: (any OutputConstraint)?
    }

    func prepare(_ r: CompletionRequest) throws(APIError) -> PreparedCompletion {
        let adapter = try checkModel(r.model)
        if r.suffix != nil { throw .badRequest("suffix is not supported", param: "suffix") }
        var c = try common(temperature: r.temperature, topP: r.top_p, topK: r.top_k, minP: r.min_p, maxTokens: r.max_tokens ?? 16,
                           n: r.n, stop: r.stop, seed: r.seed, presence: r.presence_penalty, frequency: r.frequency_penalty,
                           logprobs: r.logprobs.map { min($0, 20) })
        c.adapter = adapter
        c.servedModel = adapter ?? modelName
        if let lp = r.logprobs, !(0...5).contains(lp) { throw .badRequest("logprobs must be between 0 and 5", param: "logprobs") }
        var prompt: [Int]
        let text: String
        switch r.prompt {
        case .text(let s):
            prompt = tokenizer.encode(s, parseSpecial: false)
            text = s
        case .texts(let a):
            guard a.count == 1 else { throw .badRequest("only one prompt per request is supported", param: "prompt") }
            prompt = tokenizer.encode(a[0], parseSpecial: false)
            text = a[0]
        case .tokens(let t):
            prompt = t
            text = tokenizer.decode(t, special: true)
        case .tokenLists(let l):
            guard l.count == 1 else { throw .badRequest("only one prompt per request is supported", param: "prompt") }
            prompt = l[0]
            text = tokenizer.decode(l[0], special: true)
        }
        guard !prompt.isEmpty else { throw .badRequest("prompt must not be empty", param: "prompt") }
        let shots = try route(r.metadata, into: &c)
        if !shots.isEmpty {
            // Tokenized as one text, exactly as `tern profile` measured the tier.
            switch r.prompt {
            case .text, .texts: prompt = tokenizer.encode(shots + text, parseSpecial: false)
            case .tokens, .tokenLists: prompt = tokenizer.encode(shots, parseSpecial: false) + prompt
            }
        }
        if let bad = prompt.first(where: { $0 < 0 || $0 >= tokenizer.vocabularySize }) {
            throw .badRequest("prompt token \(bad) is outside the vocabulary", param: "prompt")
        }
        guard prompt.count < engine.contextSize else {
            throw .badRequest("the prompt has \(prompt.count) tokens; this model's context is \(engine.contextSize) tokens", param: "prompt", code: "context_length_exceeded")
        }
        return PreparedCompletion(prompt: prompt, common: c, echo: r.echo == true, promptText: text,
                                  constraint: try guidedConstraint(regex: r.guided_regex, choice: r.guided_choice))
    }

    func completionLogprobs(_ lps: [TokenLogprob], offset: Int) -> CompletionLogprobs {
        var tokens: [String] = [], values: [Double?] = [], tops: [[String: Double]?] = [], offsets: [Int] = []
        var at = offset
        for lp in lps {
            let t = String(decoding: tokenizer.bytes(of: lp.token, special: true), as: UTF8.self)
            tokens.append(t)
            values.append(Double(lp.logprob))
            var top: [String: Double] = [:]
            for x in lp.top { top[String(decoding: tokenizer.bytes(of: x.token, special: true), as: UTF8.self)] = Double(x.logprob) }
            tops.append(top)
            offsets.append(at)
            at += t.utf8.count
        }
        return CompletionLogprobs(tokens: tokens, token_logprobs: values, top_logprobs: tops, text_offset: offsets)
    }

    /// A complete (non-streaming) text completion.
    func completion(_ p: PreparedCompletion) async throws -> Completion {
        let submissions = try submit(p.prompt, p.common, constraint: p.constraint)
        defer { for s in submissions { s.end(completed: false) } }
        var choices: [Completion.Choice] = []
        var completion = 0
        for (i, s) in submissions.enumerated() {
            let c = try await s.collect()
            completion += c.completionTokens
            let text = (p.echo ? p.promptText : "") + c.text
            choices.append(.init(index: i, text: text,
                                 logprobs: p.common.logprobs != nil ? completionLogprobs(c.logprobs, offset: p.echo ? p.promptText.utf8.count : 0) : nil,
                                 finish_reason: c.finish == .length ? "length" : "stop"))
        }
        var response = Completion(id: Self.newID("cmpl-"), created: Int(Date().timeIntervalSince1970), model: p.common.servedModel, choices: choices,
                                  usage: Usage(prompt: p.prompt.count, completion: completion))
        response.system_fingerprint = p.common.fingerprint
        return response
    }

    /// Streaming text completion chunks (one choice at a time, in order), each with the routed
    /// tier's fingerprint; with `includeUsage` a final chunk with empty choices carries usage.
    func chunks(_ p: PreparedCompletion, includeUsage: Bool) throws(APIError) -> AsyncThrowingStream<Completion, any Error> {
        let submissions = try submit(p.prompt, p.common, constraint: p.constraint)
        let make: @Sendable ([Completion.Choice], Usage?) -> Completion = Self.chunkMaker("cmpl-", p.common)
        @Sendable func chunk(_ choices: [Completion.Choice], usage: Usage? = nil) -> Completion { make(choices, usage) }
        return Self.chunkStream(submissions) { continuation in
            var completion = 0
            for (index, s) in submissions.enumerated() {
                if p.echo { continuation.yield(chunk([.init(index: index, text: p.promptText, logprobs: nil, finish_reason: nil)])) }
                try await s.forEach { e in
                    switch e {
                    case .started: break
                    case .token(_, let text, let lp):
                        if !text.isEmpty || lp != nil {
                            continuation.yield(chunk([.init(index: index, text: text, logprobs: lp.map { self.completionLogprobs([$0], offset: 0) }, finish_reason: nil)]))
                        }
                    case .finished(let reason, _, let n):
                        completion += n
                        continuation.yield(chunk([.init(index: index, text: "", logprobs: nil, finish_reason: reason == .length ? "length" : "stop")]))
                    }
                }
            }
            if includeUsage { continuation.yield(chunk([], usage: Usage(prompt: p.prompt.count, completion: completion))) }
        }
    }

    /// A complete (non-streaming) text completion (the in-process path of `/v1/completions`).
    public func complete(_ r: CompletionRequest) async throws -> Completion {
        try await completion(try prepare(r))
    }
}
