// SPDX-License-Identifier: Apache-2.0

import Foundation
import Synchronization
public import InferenceEngine
public import OpenAIAPI
public import Support
public import Tokenization
import TransformerModels

/// Turns OpenAI requests into engine requests and engine events into OpenAI responses.
///
/// It is also Tern's in-process ``ChatModelClient``: systems that talk to an LLM can use it
/// directly or reach the same logic over HTTP.
public final class ChatService: ChatModelClient, Sendable {
    /// The engine.
    public let engine: EngineClient
    /// The id clients use in `model`.
    public let modelName: String
    /// Other ids accepted for the same model (e.g. the file name).
    public let aliases: Set<String>
    /// Decides per request how it is served (learned best-effort serving's tiers); nil serves
    /// every request with the full model.
    public let router: (any RequestRouter)?
    let template: ChatTemplate
    let created = Int(Date().timeIntervalSince1970)

    /// Creates the service.
    public init(engine: EngineClient, modelName: String, aliases: Set<String> = [], template: ChatTemplate, router: (any RequestRouter)? = nil) {
        self.engine = engine
        self.modelName = modelName
        self.aliases = aliases
        self.template = template
        self.router = router
    }

    var tokenizer: Tokenizer { engine.tokenizer }

    // MARK: - Validation shared by both endpoints (once, at the edge: `prepare` turns a decoded
    // request into a typed, checked one; nothing downstream validates again)

    struct Common {
        var sampling: SamplingParameters
        var maxTokens: Int?
        var n: Int
        var stop: [String]
        var logprobs: Int?
        /// The LoRA adapter named by `model`, if any.
        var adapter: String? = nil
        /// The id responses report in `model`.
        var servedModel = ""
        /// The router's decision (under `--router`).
        var route: RoutingDecision? = nil
        /// Early-exit depth of the routed tier; nil = the full model.
        var layerLimit: Int? = nil
        /// `system_fingerprint` of the response: the routed tier.
        var fingerprint: String? = nil
    }

    /// Routes a request under `--router`: the decision, and the text it puts before the prompt.
    /// A label the router cannot use is a 400, a request shed under load a 503.
    func route(_ metadata: [String: String]?, into c: inout Common) throws(APIError) -> String {
        guard let router else { return "" }
        let d: RoutingDecision
        do {
            d = try router.route(metadata: metadata)
        } catch {
            throw error.apiError
        }
        c.route = d
        c.layerLimit = d.layerLimit.flatMap { $0 < engine.layerCount ? $0 : nil }
        c.fingerprint = d.fingerprint
        return d.promptPrefix
    }

    /// Resolves the request's `model`: nil for the base model, the adapter's name for a LoRA adapter.
    func checkModel(_ model: String) throws(APIError) -> String? {
        if model == modelName || aliases.contains(model) { return nil }
        if engine.adapters?.contains(model) == true { return model }
        let adapters = engine.adapters?.names ?? []
        let served = ([modelName] + adapters).prefix(10).map { "'\($0)'" }.joined(separator: ", ") + (adapters.count > 9 ? ", …" : "")
        throw APIError(status: .notFound, message: "model '\(model)' does not exist; this server serves \(served) (see /v1/models)",
                       type: "not_found_error", param: "model", code: "model_not_found")
    }

    func common(temperature: Double?, topP: Double?, topK: Int?, minP: Double?, maxTokens: Int?, n: Int?, stop: StringOrArray?,
                seed: Int?, presence: Double?, frequency: Double?, logprobs: Int?) throws(APIError) -> Common {
        var s = SamplingParameters()
        let t = temperature ?? 1
        guard t >= 0 && t <= 2 else { throw .badRequest("temperature must be between 0 and 2", param: "temperature") }
        s.temperature = Float(t)
        let p = topP ?? 1
        guard p > 0 && p <= 1 else { throw .badRequest("top_p must be in (0, 1]", param: "top_p") }
        s.topP = Float(p)
        if let k = topK {
            guard k >= 0 else { throw .badRequest("top_k must be >= 0", param: "top_k") }
            s.topK = k
        } else {
            s.topK = 0
        }
        let mp = minP ?? 0
        guard mp >= 0 && mp < 1 else { throw .badRequest("min_p must be in [0, 1)", param: "min_p") }
        s.minP = Float(mp)
        for (v, name) in [(presence, "presence_penalty"), (frequency, "frequency_penalty")] {
            if let v, !(v >= -2 && v <= 2) { throw .badRequest("\(name) must be between -2 and 2", param: name) }
        }
        s.presencePenalty = Float(presence ?? 0)
        s.frequencyPenalty = Float(frequency ?? 0)
        s.penaltyWindow = -1
        s.seed = seed.map { UInt64(bitPattern: Int64($0)) }
        let n = n ?? 1
        guard n >= 1 && n <= 8 else { throw .badRequest("n must be between 1 and 8", param: "n") }
        if let m = maxTokens, m < 1 { throw .badRequest("max_tokens must be at least 1", param: "max_tokens") }
        let stops = stop?.values ?? []
        guard stops.count <= 4 else { throw .badRequest("at most 4 stop sequences are allowed", param: "stop") }
        if let lp = logprobs, !(0...20).contains(lp) { throw .badRequest("top_logprobs must be between 0 and 20", param: "top_logprobs") }
        return Common(sampling: s, maxTokens: maxTokens, n: n, stop: stops.filter { !$0.isEmpty }, logprobs: logprobs)
    }

    /// The engine request for choice `index` (seeds differ per choice so `n` choices differ).
    func engineRequest(_ prompt: [Int], _ c: Common, index: Int, constraint: (any OutputConstraint)?) -> GenerationRequest {
        var sampling = c.sampling
        if let seed = sampling.seed { sampling.seed = seed &+ UInt64(index) }
        let room = engine.contextSize - prompt.count
        var request = GenerationRequest(prompt: prompt, sampling: sampling, maxTokens: min(c.maxTokens ?? room, room), stop: c.stop,
                                        logprobs: c.logprobs, constraint: constraint)
        request.adapter = c.adapter
        request.layerLimit = c.layerLimit
        return request
    }

    /// `guided_regex` / `guided_choice` (vLLM's names) as an output constraint.
    func guidedConstraint(regex: String?, choice: [String]?) throws(APIError) -> (any OutputConstraint)? {
        if let regex {
            do {
                return try RegexConstraint(regex)
            } catch {
                throw .badRequest("guided_regex: \(error)", param: "guided_regex")
            }
        }
        if let choice {
            guard !choice.isEmpty, choice.allSatisfy({ !$0.isEmpty }) else { throw .badRequest("guided_choice must list non-empty strings", param: "guided_choice") }
            return ChoiceConstraint(choice)
        }
        return nil
    }

    // MARK: - Submission: the engine streams of one response

    /// One choice's engine stream and the routing decision it counts against. The router hears
    /// of each sequence's end exactly once: when the engine finishes it, or when the response
    /// stops reading it (client gone, error, another choice failed).
    final class Submission: Sendable {
        let events: AsyncThrowingStream<GenerationEvent, any Error>
        private let router: (any RequestRouter)?
        private let decision: RoutingDecision?
        private let ended = Atomic<Bool>(false)

        init(_ events: AsyncThrowingStream<GenerationEvent, any Error>, router: (any RequestRouter)?, decision: RoutingDecision?) {
            self.events = events
            self.router = router
            self.decision = decision
            if let router, let decision { router.started(decision, count: 1) }
        }

        deinit { end(completed: false) }

        /// Reports the end to the router (once).
        func end(completed: Bool) {
            guard let router, let decision, !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
            router.finished(decision, completed: completed)
        }

        /// Runs `body` on every event in order; the router hears of the end before `body` sees it.
        func forEach(_ body: (GenerationEvent) async throws -> Void) async throws {
            defer { end(completed: false) }
            for try await e in events {
                if case .finished(let reason, _, _) = e { end(completed: reason != .cancelled) }
                try await body(e)
            }
        }

        /// The whole choice, collected.
        func collect() async throws -> Collected {
            var c = Collected()
            try await forEach { e in
                switch e {
                case .started(let p, _): c.promptTokens = p
                case .token(let id, let text, let lp):
                    c.text += text
                    if id >= 0 { c.tokens.append(id) }
                    if let lp { c.logprobs.append(lp) }
                case .finished(let reason, let p, let n):
                    c.finish = reason
                    c.promptTokens = p
                    c.completionTokens = n
                }
            }
            return c
        }
    }

    /// One choice's collected result.
    struct Collected {
        var text = ""
        var tokens: [Int] = []
        var logprobs: [TokenLogprob] = []
        var finish: TransformerModels.FinishReason = .stop
        var promptTokens = 0
        var completionTokens = 0
    }

    /// Submits the `n` choices of a prepared request; if the engine refuses one, the ones already
    /// submitted are dropped (cancelled in the engine) and the refusal is thrown.
    func submit(_ prompt: [Int], _ c: Common, constraint: (any OutputConstraint)?) throws(APIError) -> [Submission] {
        var out: [Submission] = []
        for i in 0..<c.n {
            do {
                out.append(Submission(try engine.submit(engineRequest(prompt, c, index: i, constraint: constraint)), router: router, decision: c.route))
            } catch {
                for s in out { s.end(completed: false) }
                throw APIError(error)
            }
        }
        return out
    }

    /// Runs `produce` in a task feeding the returned stream; the stream's consumer going away
    /// cancels the task (and so the engine requests), and every submission's end is reported.
    static func chunkStream<Chunk: Sendable>(_ submissions: [Submission],
                                             _ produce: @escaping @Sendable (AsyncThrowingStream<Chunk, any Error>.Continuation) async throws -> Void)
        -> AsyncThrowingStream<Chunk, any Error> {
        let (out, continuation) = AsyncThrowingStream<Chunk, any Error>.makeStream()
        let task = Task {
            defer { for s in submissions { s.end(completed: false) } }
            do {
                try await produce(continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return out
    }

    /// The chunk maker of one streamed response: one id and creation time, the served model, and
    /// the routed tier's fingerprint on every chunk.
    static func chunkMaker<C: StreamChunk>(_ prefix: String, _ c: Common) -> @Sendable ([C.Choice], Usage?) -> C {
        let id = newID(prefix), created = Int(Date().timeIntervalSince1970)
        let model = c.servedModel, fingerprint = c.fingerprint
        return { choices, usage in
            var chunk = C(id: id, created: created, model: model, choices: choices, usage: usage)
            chunk.system_fingerprint = fingerprint
            return chunk
        }
    }

    static func newID(_ prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24).lowercased()
    }
}
