// SPDX-License-Identifier: Apache-2.0

import Foundation
import InferenceEngine
public import OpenAIAPI
import Support
import Tokenization
import TransformerModels

/// `/v1/chat/completions`: validation into a ``ChatService/PreparedChat`` (messages, tools,
/// guided decoding, routing), and the one mapping from engine events to chat responses.
extension ChatService {
    /// A chat request checked and turned into engine terms: the rendered prompt's tokens, the
    /// sampling settings, the output constraint (tools, guided decoding, response format).
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

    /// Splits a constrained tool-mode output into content or tool calls.
    func toolResult(_ text: String, mode: ToolMode) -> (content: String?, calls: [ToolCall]?) {
        guard mode != .none, let data = text.data(using: .utf8),
              let json = try? JSONDecoder().decode(JSONValue.self, from: data) else { return (text, nil) }
        let call: JSONValue? = mode == .forced ? json : json["tool_call"]
        if mode == .auto, let response = json["response"]?.stringValue { return (response, nil) }
        guard let c = call, let name = c["name"]?.stringValue else { return (text, nil) }
        let args = c["arguments"] ?? .object([:])
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let argText = (try? encoder.encode(args)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
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

    /// A complete (non-streaming) chat completion.
    func completion(_ p: PreparedChat) async throws -> ChatCompletion {
        let submissions = try submit(p.prompt, p.common, constraint: p.constraint)
        let results = try await withThrowingTaskGroup(of: (Int, Collected).self) { group in
            for (i, s) in submissions.enumerated() { group.addTask { (i, try await s.collect()) } }
            var out = [Collected](repeating: Collected(), count: submissions.count)
            for try await (i, c) in group { out[i] = c }
            return out
        }
        var choices: [ChatCompletion.Choice] = []
        var completion = 0
        for (i, c) in results.enumerated() {
            let (content, calls) = toolResult(c.text, mode: p.tools)
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

    /// Streaming chat: chunks in order per choice (choices run concurrently); the first delta of
    /// each choice carries the role, the last its finish reason; with `includeUsage` a final chunk
    /// with empty choices carries usage. Every chunk carries the routed tier's fingerprint.
    func chunks(_ p: PreparedChat, includeUsage: Bool) throws(APIError) -> AsyncThrowingStream<ChatCompletionChunk, any Error> {
        let submissions = try submit(p.prompt, p.common, constraint: p.constraint)
        let wantLogprobs = p.common.logprobs != nil
        let make: @Sendable ([ChatCompletionChunk.Choice], Usage?) -> ChatCompletionChunk = Self.chunkMaker("chatcmpl-", p.common)
        @Sendable func chunk(_ choices: [ChatCompletionChunk.Choice], usage: Usage? = nil) -> ChatCompletionChunk { make(choices, usage) }
        return Self.chunkStream(submissions) { continuation in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for (index, s) in submissions.enumerated() {
                    group.addTask {
                        continuation.yield(chunk([.init(index: index, delta: .init(role: "assistant", content: ""), finish_reason: nil)]))
                        var text = ""
                        var completion = 0
                        var finish = TransformerModels.FinishReason.stop
                        try await s.forEach { e in
                            switch e {
                            case .started: break
                            case .token(_, let piece, let lp):
                                if p.tools != .none {
                                    text += piece
                                } else if !piece.isEmpty || lp != nil {
                                    continuation.yield(chunk([.init(index: index, delta: .init(content: piece), finish_reason: nil,
                                                                    logprobs: wantLogprobs ? self.chatLogprobs(lp.map { [$0] } ?? []) : nil)]))
                                }
                            case .finished(let reason, _, let n):
                                finish = reason
                                completion = n
                            }
                        }
                        var finishText = finish == .length ? "length" : "stop"
                        if p.tools != .none {
                            let (content, calls) = self.toolResult(text, mode: p.tools)
                            if let calls {
                                finishText = "tool_calls"
                                continuation.yield(chunk([.init(index: index, delta: .init(tool_calls: calls.enumerated().map { k, c in
                                    .init(index: k, id: c.id, type: "function", function: .init(name: c.function.name, arguments: c.function.arguments))
                                }), finish_reason: nil)]))
                            } else if let content {
                                continuation.yield(chunk([.init(index: index, delta: .init(content: content), finish_reason: nil)]))
                            }
                        }
                        continuation.yield(chunk([.init(index: index, delta: .init(), finish_reason: finishText)]))
                        return completion
                    }
                }
                var completion = 0
                for try await n in group { completion += n }
                if includeUsage { continuation.yield(chunk([], usage: Usage(prompt: p.prompt.count, completion: completion))) }
            }
        }
    }

    // MARK: ChatModelClient (in-process systems use the same path as HTTP clients)

    /// A complete (non-streaming) chat completion.
    public func complete(_ r: ChatCompletionRequest) async throws -> ChatCompletion {
        try await completion(try prepare(r))
    }

    /// Streaming chat (see the `/v1/chat/completions` route): `stream_options.include_usage` adds the usage chunk.
    public func stream(_ r: ChatCompletionRequest) async throws -> AsyncThrowingStream<ChatCompletionChunk, any Error> {
        try chunks(try prepare(r), includeUsage: r.stream_options?.include_usage == true)
    }
}
