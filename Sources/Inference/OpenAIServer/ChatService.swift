// SPDX-License-Identifier: Apache-2.0

import Foundation
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

    // MARK: - Validation shared by both endpoints

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
            switch error {
            case .invalidLabel(let message, let parameter):
                throw .badRequest(message, param: parameter)
            case .shed(let message):
                throw APIError(status: .serviceUnavailable, message: message, type: "server_error", code: "dropped_by_router", retryAfter: 1)
            }
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

    // MARK: - Chat

    struct PreparedChat {
        var prompt: [Int]
        var common: Common
        var constraint: (any OutputConstraint)?
        var tools: ToolMode
    }

    enum ToolMode {
        case none
        case forced  // output is {"name":..., "arguments":...}
        case auto    // output is {"tool_call": {...}} or {"response": "..."}
    }

    func prepare(_ r: ChatCompletionRequest) throws(APIError) -> PreparedChat {
        let adapter = try checkModel(r.model)
        guard !r.messages.isEmpty else { throw .badRequest("messages must not be empty", param: "messages") }
        var messages: [ChatMessage] = []
        for (i, m) in r.messages.enumerated() {
            guard ["system", "developer", "user", "assistant", "tool"].contains(m.role) else {
                throw .badRequest("messages[\(i)].role '\(m.role)' is not one of system, developer, user, assistant, tool", param: "messages[\(i)].role")
            }
            var content = m.content ?? ""
            if let calls = m.tool_calls, !calls.isEmpty {
                content += calls.map { "{\"tool_call\": {\"name\": \"\($0.function.name)\", \"arguments\": \($0.function.arguments)}}" }.joined(separator: "\n")
            }
            let role = m.role == "developer" ? "system" : (m.role == "tool" ? "user" : m.role)
            if m.role == "tool" { content = "Tool result\(m.tool_call_id.map { " (\($0))" } ?? ""): \(content)" }
            messages.append(ChatMessage(role: role, content: content))
        }
        if r.logprobs != true && r.top_logprobs != nil { throw .badRequest("top_logprobs requires logprobs: true", param: "top_logprobs") }
        var c = try common(temperature: r.temperature, topP: r.top_p, topK: r.top_k, minP: r.min_p,
                           maxTokens: r.max_completion_tokens ?? r.max_tokens, n: r.n, stop: r.stop, seed: r.seed,
                           presence: r.presence_penalty, frequency: r.frequency_penalty,
                           logprobs: r.logprobs == true ? (r.top_logprobs ?? 0) : nil)
        c.adapter = adapter
        c.servedModel = adapter ?? modelName
        var constraint: (any OutputConstraint)?
        var mode = ToolMode.none
        if let tools = r.tools, !tools.isEmpty, r.tool_choice != ToolChoice.none {
            for (i, t) in tools.enumerated() where t.type != "function" || t.function.name.isEmpty {
                throw .badRequest("tools[\(i)] must be a function with a name", param: "tools[\(i)]")
            }
            var chosen = tools
            if case .function(let name) = r.tool_choice {
                chosen = tools.filter { $0.function.name == name }
                guard !chosen.isEmpty else { throw .badRequest("tool_choice names '\(name)', which is not in tools", param: "tool_choice") }
            }
            let calls = try chosen.map { t throws(APIError) -> JSONSchema in
                .object(properties: [("name", .string(values: [t.function.name])),
                                     ("arguments", try JSONSchemaConversion.schema(t.function.parameters ?? .object([:]), path: "tools.\(t.function.name).parameters"))],
                        required: ["name", "arguments"])
            }
            let call: JSONSchema = calls.count == 1 ? calls[0] : .anyOf(calls)
            let forced = r.tool_choice == .required || { if case .function = r.tool_choice { return true } else { return false } }()
            mode = forced ? .forced : .auto
            constraint = JSONSchemaConstraint(forced ? call : .anyOf([
                .object(properties: [("tool_call", call)], required: ["tool_call"]),
                .object(properties: [("response", .string(values: nil))], required: ["response"]),
            ]))
            let catalogue = chosen.map { t -> String in
                var d = "- \(t.function.name)"
                if let desc = t.function.description { d += ": \(desc)" }
                if let p = t.function.parameters, let data = try? JSONEncoder().encode(p) { d += " Parameters (JSON Schema): \(String(decoding: data, as: UTF8.self))" }
                return d
            }.joined(separator: "\n")
            let instruction = forced
                ? "You must call one of these tools. Reply with only a JSON object {\"name\": <tool name>, \"arguments\": {...}}.\nTools:\n\(catalogue)"
                : "You can call these tools:\n\(catalogue)\nReply with only a JSON object: {\"tool_call\": {\"name\": <tool name>, \"arguments\": {...}}} to call a tool, or {\"response\": \"<your answer>\"} to answer directly."
            if messages.first?.role == "system" {
                messages[0].content += "\n\n" + instruction
            } else {
                messages.insert(ChatMessage(role: "system", content: instruction), at: 0)
            }
        } else if let guided = try guidedConstraint(regex: r.guided_regex, choice: r.guided_choice) {
            constraint = guided
        } else if let f = r.response_format {
            switch f.type {
            case "text": break
            case "json_object": constraint = JSONSchemaConstraint(.anyObject)
            case "json_schema":
                guard let schema = f.json_schema?.schema else { throw .badRequest("response_format.json_schema.schema is required", param: "response_format") }
                constraint = JSONSchemaConstraint(try JSONSchemaConversion.schema(schema, path: "response_format.json_schema.schema"))
            default: throw .badRequest("response_format.type must be text, json_object or json_schema", param: "response_format")
            }
        }
        let shots = try route(r.metadata, into: &c)
        if !shots.isEmpty {
            // A prompt-variant tier: its solved examples go before the first user message's text.
            if let u = messages.firstIndex(where: { $0.role == "user" }) { messages[u].content = shots + messages[u].content }
        }
        let text = template.render(messages, addGenerationPrompt: true)
        let prompt = tokenizer.encode(text, parseSpecial: true)
        guard prompt.count < engine.contextSize else {
            throw .badRequest("the messages take \(prompt.count) tokens; this model's context is \(engine.contextSize) tokens", param: "messages", code: "context_length_exceeded")
        }
        return PreparedChat(prompt: prompt, common: c, constraint: constraint, tools: mode)
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

    func collect(_ stream: AsyncThrowingStream<GenerationEvent, any Error>) async throws -> Collected {
        var c = Collected()
        for try await e in stream {
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

    func submit(_ r: GenerationRequest, _ c: Common) throws(APIError) -> AsyncThrowingStream<GenerationEvent, any Error> {
        let stream: AsyncThrowingStream<GenerationEvent, any Error>
        do {
            stream = try engine.submit(r)
        } catch {
            throw APIError(error)
        }
        guard let router, let d = c.route else { return stream }
        // Routed: the router counts the sequence in flight on its tier until the stream ends.
        router.started(d, count: 1)
        let (out, continuation) = AsyncThrowingStream<GenerationEvent, any Error>.makeStream()
        let task = Task {
            // The router hears of the end before the caller does, so its counters are current when a response returns.
            var ended = false
            do {
                for try await e in stream {
                    if case .finished(let reason, _, _) = e {
                        router.finished(d, completed: reason != .cancelled)
                        ended = true
                    }
                    continuation.yield(e)
                }
                if !ended { router.finished(d, completed: false) }
                continuation.finish()
            } catch {
                if !ended { router.finished(d, completed: false) }
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return out
    }

    /// `stream` with `system_fingerprint` set on every chunk (the routed tier); unchanged when nil.
    static func fingerprinted<T: Sendable>(_ stream: AsyncThrowingStream<T, any Error>, _ fingerprint: String?,
                                           set: @escaping @Sendable (inout T, String) -> Void) -> AsyncThrowingStream<T, any Error> {
        guard let fingerprint else { return stream }
        let (out, continuation) = AsyncThrowingStream<T, any Error>.makeStream()
        let task = Task {
            do {
                for try await var chunk in stream {
                    set(&chunk, fingerprint)
                    continuation.yield(chunk)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return out
    }

    /// Splits a constrained tool-mode output into content or tool calls.
    func toolResult(_ text: String, mode: ToolMode, index: Int) -> (content: String?, calls: [ToolCall]?) {
        guard mode != .none, let data = text.data(using: .utf8),
              let json = try? JSONDecoder().decode(JSONValue.self, from: data) else { return (text, nil) }
        var call: JSONValue? = mode == .forced ? json : json["tool_call"]
        if mode == .auto, let response = json["response"]?.stringValue { return (response, nil) }
        guard let c = call, let name = c["name"]?.stringValue else { return (text, nil) }
        let args = c["arguments"] ?? .object([:])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let argText = (try? encoder.encode(args)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        call = nil
        return (nil, [ToolCall(id: "call_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24).lowercased())", function: FunctionCall(name: name, arguments: argText))])
    }

    func chatLogprobs(_ lps: [TokenLogprob]) -> ChatLogprobs {
        ChatLogprobs(content: lps.map { lp in
            let bytes = tokenizer.bytes(of: lp.token, special: true)
            return ChatLogprobs.Entry(
                token: String(decoding: bytes, as: UTF8.self), logprob: Double(lp.logprob), bytes: bytes,
                top_logprobs: lp.top.map { t in
                    let b = tokenizer.bytes(of: t.token, special: true)
                    return ChatLogprobs.Top(token: String(decoding: b, as: UTF8.self), logprob: Double(t.logprob), bytes: b)
                })
        })
    }

    static func newID(_ prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(24).lowercased()
    }

    /// A complete (non-streaming) chat completion.
    public func complete(_ r: ChatCompletionRequest) async throws -> ChatCompletion {
        let p = try prepare(r)
        var streams: [AsyncThrowingStream<GenerationEvent, any Error>] = []
        for i in 0..<p.common.n { streams.append(try submit(engineRequest(p.prompt, p.common, index: i, constraint: p.constraint), p.common)) }
        let results = try await withThrowingTaskGroup(of: (Int, Collected).self) { group in
            for (i, s) in streams.enumerated() { group.addTask { (i, try await self.collect(s)) } }
            var out = [Collected](repeating: Collected(), count: streams.count)
            for try await (i, c) in group { out[i] = c }
            return out
        }
        var choices: [ChatCompletion.Choice] = []
        var completion = 0
        for (i, c) in results.enumerated() {
            let (content, calls) = toolResult(c.text, mode: p.tools, index: i)
            let finish = calls != nil ? "tool_calls" : (c.finish == .length ? "length" : "stop")
            choices.append(.init(index: i, message: ChatCompletionMessage(role: "assistant", content: content, tool_calls: calls),
                                 finish_reason: finish, logprobs: p.common.logprobs != nil ? chatLogprobs(c.logprobs) : nil))
            completion += c.completionTokens
        }
        var response = ChatCompletion(id: Self.newID("chatcmpl-"), created: Int(Date().timeIntervalSince1970), model: p.common.servedModel,
                                      choices: choices, usage: Usage(prompt: p.prompt.count, completion: completion))
        response.system_fingerprint = p.common.fingerprint
        return response
    }

    /// Streaming chat: chunks in order; the first delta of each choice carries the role, the last
    /// its finish reason; with `includeUsage` a final chunk with empty choices carries usage.
    public func stream(_ r: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatCompletionChunk, any Error> {
        try streamChat(r, includeUsage: r.stream_options?.include_usage == true)
    }

    func streamChat(_ r: ChatCompletionRequest, includeUsage: Bool) throws(APIError) -> AsyncThrowingStream<ChatCompletionChunk, any Error> {
        let p = try prepare(r)
        var streams: [AsyncThrowingStream<GenerationEvent, any Error>] = []
        for i in 0..<p.common.n { streams.append(try submit(engineRequest(p.prompt, p.common, index: i, constraint: p.constraint), p.common)) }
        let id = Self.newID("chatcmpl-")
        let created = Int(Date().timeIntervalSince1970)
        let model = p.common.servedModel
        let wantLogprobs = p.common.logprobs != nil
        let (out, continuation) = AsyncThrowingStream<ChatCompletionChunk, any Error>.makeStream()
        let task = Task {
            do {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for (index, s) in streams.enumerated() {
                        group.addTask {
                            continuation.yield(ChatCompletionChunk(id: id, created: created, model: model, choices: [
                                .init(index: index, delta: .init(role: "assistant", content: ""), finish_reason: nil),
                            ]))
                            var text = ""
                            var completion = 0
                            var finish = TransformerModels.FinishReason.stop
                            for try await e in s {
                                switch e {
                                case .started: break
                                case .token(_, let piece, let lp):
                                    if p.tools != .none {
                                        text += piece
                                    } else if !piece.isEmpty || lp != nil {
                                        continuation.yield(ChatCompletionChunk(id: id, created: created, model: model, choices: [
                                            .init(index: index, delta: .init(content: piece), finish_reason: nil,
                                                  logprobs: wantLogprobs ? self.chatLogprobs(lp.map { [$0] } ?? []) : nil),
                                        ]))
                                    }
                                case .finished(let reason, _, let n):
                                    finish = reason
                                    completion = n
                                }
                            }
                            var finishText = finish == .length ? "length" : "stop"
                            if p.tools != .none {
                                let (content, calls) = self.toolResult(text, mode: p.tools, index: index)
                                if let calls {
                                    finishText = "tool_calls"
                                    continuation.yield(ChatCompletionChunk(id: id, created: created, model: model, choices: [
                                        .init(index: index, delta: .init(tool_calls: calls.enumerated().map { k, c in
                                            .init(index: k, id: c.id, type: "function", function: .init(name: c.function.name, arguments: c.function.arguments))
                                        }), finish_reason: nil),
                                    ]))
                                } else if let content {
                                    continuation.yield(ChatCompletionChunk(id: id, created: created, model: model, choices: [
                                        .init(index: index, delta: .init(content: content), finish_reason: nil),
                                    ]))
                                }
                            }
                            continuation.yield(ChatCompletionChunk(id: id, created: created, model: model, choices: [
                                .init(index: index, delta: .init(), finish_reason: finishText),
                            ]))
                            return completion
                        }
                    }
                    var completion = 0
                    for try await n in group { completion += n }
                    if includeUsage {
                        continuation.yield(ChatCompletionChunk(id: id, created: created, model: model, choices: [],
                                                               usage: Usage(prompt: p.prompt.count, completion: completion)))
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return Self.fingerprinted(out, p.common.fingerprint) { $0.system_fingerprint = $1 }
    }

    // MARK: - Completions

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
    public func complete(_ r: CompletionRequest) async throws -> Completion {
        let p = try prepare(r)
        var streams: [AsyncThrowingStream<GenerationEvent, any Error>] = []
        for i in 0..<p.common.n { streams.append(try submit(engineRequest(p.prompt, p.common, index: i, constraint: p.constraint), p.common)) }
        var choices: [Completion.Choice] = []
        var completion = 0
        for (i, s) in streams.enumerated() {
            let c = try await collect(s)
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

    /// Streaming text completion chunks (one choice at a time, in order).
    func streamCompletion(_ r: CompletionRequest, includeUsage: Bool) throws(APIError) -> AsyncThrowingStream<Completion, any Error> {
        let p = try prepare(r)
        var streams: [AsyncThrowingStream<GenerationEvent, any Error>] = []
        for i in 0..<p.common.n { streams.append(try submit(engineRequest(p.prompt, p.common, index: i, constraint: p.constraint), p.common)) }
        let id = Self.newID("cmpl-")
        let created = Int(Date().timeIntervalSince1970)
        let model = p.common.servedModel
        let (out, continuation) = AsyncThrowingStream<Completion, any Error>.makeStream()
        let task = Task {
            do {
                var completion = 0
                for (index, s) in streams.enumerated() {
                    if p.echo {
                        continuation.yield(Completion(id: id, created: created, model: model,
                                                      choices: [.init(index: index, text: p.promptText, logprobs: nil, finish_reason: nil)], usage: nil))
                    }
                    for try await e in s {
                        switch e {
                        case .started: break
                        case .token(_, let text, let lp):
                            if !text.isEmpty || lp != nil {
                                continuation.yield(Completion(id: id, created: created, model: model, choices: [
                                    .init(index: index, text: text, logprobs: lp.map { self.completionLogprobs([$0], offset: 0) }, finish_reason: nil),
                                ], usage: nil))
                            }
                        case .finished(let reason, _, let n):
                            completion += n
                            continuation.yield(Completion(id: id, created: created, model: model, choices: [
                                .init(index: index, text: "", logprobs: nil, finish_reason: reason == .length ? "length" : "stop"),
                            ], usage: nil))
                        }
                    }
                }
                if includeUsage {
                    continuation.yield(Completion(id: id, created: created, model: model, choices: [], usage: Usage(prompt: p.prompt.count, completion: completion)))
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return Self.fingerprinted(out, p.common.fingerprint) { $0.system_fingerprint = $1 }
    }
}

/// Converts request JSON schemas to the engine's ``JSONSchema`` subset.
enum JSONSchemaConversion {
    static func schema(_ v: JSONValue, path: String) throws(APIError) -> JSONSchema {
        guard let o = v.objectValue else { throw .badRequest("\(path) must be a JSON schema object", param: path) }
        if let e = o["enum"]?.arrayValue {
            let strings = e.compactMap(\.stringValue)
            guard strings.count == e.count, !strings.isEmpty else { throw .badRequest("\(path).enum: only string enums are supported", param: path) }
            return .string(values: strings)
        }
        if let c = o["const"]?.stringValue { return .string(values: [c]) }
        if let options = (o["anyOf"] ?? o["oneOf"])?.arrayValue {
            var alts: [JSONSchema] = []
            for (i, x) in options.enumerated() { alts.append(try schema(x, path: "\(path).anyOf[\(i)]")) }
            return .anyOf(alts)
        }
        let type: String?
        if let t = o["type"]?.stringValue {
            type = t
        } else if let ts = o["type"]?.arrayValue {
            var alts: [JSONSchema] = []
            for t in ts {
                var copy = o
                copy["type"] = t
                alts.append(try schema(.object(copy), path: path))
            }
            return .anyOf(alts)
        } else {
            type = o["properties"] != nil ? "object" : nil
        }
        switch type {
        case nil: return .any
        case "string": return .string(values: nil)
        case "integer": return .number(integer: true)
        case "number": return .number(integer: false)
        case "boolean": return .boolean
        case "null": return .null
        case "array":
            return .array(items: try o["items"].map { (x: JSONValue) throws(APIError) in try schema(x, path: "\(path).items") } ?? .any)
        case "object":
            let props = o["properties"]?.objectValue ?? [:]
            // Keep the author's order where the encoder preserved it; otherwise required first, then by name.
            let required = Set(o["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            let names = props.keys.sorted { (required.contains($0) ? 0 : 1, $0) < (required.contains($1) ? 0 : 1, $1) }
            var list: [(String, JSONSchema)] = []
            for n in names { list.append((n, try schema(props[n]!, path: "\(path).properties.\(n)"))) }
            if props.isEmpty { return o["additionalProperties"] == .bool(false) ? .object(properties: [], required: []) : .any }
            return .object(properties: list, required: required)
        default:
            throw .badRequest("\(path).type '\(type!)' is not supported", param: path)
        }
    }
}
