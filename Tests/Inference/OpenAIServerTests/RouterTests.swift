// SPDX-License-Identifier: Apache-2.0

import BestEffortServing
import Foundation
import GGUF
import Hummingbird
import HummingbirdTesting
import InferenceEngine
import OpenAIAPI
import OpenAIServer
import TestSupport
import Testing
import Tokenization
import TransformerModels

@Suite("OpenAI server routes on a tiny model")
struct RouterTests {
    @Test("health, models, metrics, status and the web page")
    func basics() async throws {
        let (app, engine) = try tinyServer()
        defer { engine.shutdown() }
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/models", method: .get) { r in
                let list = try decode(ModelList.self, r.body)
                #expect(list.data.map(\.id) == ["tiny"])
            }
            try await client.execute(uri: "/v1/nothing", method: .get) { r in
                #expect(r.status == .notFound)
                #expect(String(buffer: r.body).contains("unknown_route") && String(buffer: r.body).contains("/v1/nothing"))
            }
            try await client.execute(uri: "/", method: .get) { r in
                #expect(r.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(String(buffer: r.body).contains("/v1/chat/completions"))
            }
            try await client.execute(uri: "/v1/completions", method: .post, headers: jsonHeaders,
                                     body: body(#"{"model":"tiny","prompt":"hello","max_tokens":4}"#)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/metrics", method: .get) { r in
                let text = String(buffer: r.body)
                for name in ["tern_requests_running", "tern_requests_waiting", "tern_kv_cache_usage_ratio", "tern_prompt_tokens_total",
                             "tern_generation_tokens_total", "tern_time_to_first_token_seconds", "tern_inter_token_latency_seconds",
                             "tern_e2e_request_latency_seconds"] {
                    #expect(text.contains(name), "\(name)")
                }
                #expect(text.contains("tern_generation_tokens_total 4"))
            }
            try await client.execute(uri: "/status", method: .get) { r in
                let j = try #require(try JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [String: Any])
                #expect(j["running"] as? Int == 0 && j["kv_usage"] as? Double == 0)
            }
        }
    }

    @Test("health is 503 while the model loads")
    func loading() async throws {
        let (app, engine) = try tinyServer(ready: false)
        defer { engine.shutdown() }
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .serviceUnavailable) }
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders,
                                     body: body(#"{"model":"tiny","messages":[{"role":"user","content":"hi"}]}"#)) { r in
                #expect(r.status == .serviceUnavailable && r.headers[.retryAfter] != nil)
            }
        }
    }

    @Test("chat completion: message, usage, n choices, logprobs")
    func chat() async throws {
        let (app, engine) = try tinyServer()
        defer { engine.shutdown() }
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"tiny","messages":[{"role":"user","content":"hello world"}],"max_tokens":5,"n":2,"temperature":0.8,"seed":3,"logprobs":true,"top_logprobs":2}"#)) { r in
                #expect(r.status == .ok)
                let c = try decode(ChatCompletion.self, r.body)
                #expect(c.object == "chat.completion" && c.choices.count == 2)
                #expect(c.usage.completion_tokens == 10 && c.usage.prompt_tokens > 0)
                #expect(c.choices.allSatisfy { $0.finish_reason == "length" && $0.message.role == "assistant" })
                let lp = try #require(c.choices[0].logprobs)
                #expect(lp.content.count == 5 && lp.content.allSatisfy { $0.top_logprobs.count == 2 && $0.logprob <= 0 })
            }
        }
    }

    @Test("streaming chat: role first, content deltas, finish reason, usage, [DONE]")
    func streamChat() async throws {
        let (app, engine) = try tinyServer()
        defer { engine.shutdown() }
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":6,"stream":true,"stream_options":{"include_usage":true},"temperature":0}"#)) { r in
                #expect(r.headers[.contentType] == "text/event-stream")
                let ev = events(r.body)
                #expect(ev.last == "[DONE]")
                let chunks = try ev.dropLast().map { try JSONDecoder().decode(ChatCompletionChunk.self, from: Data($0.utf8)) }
                #expect(chunks.first?.choices.first?.delta.role == "assistant")
                #expect(chunks.dropLast().last?.choices.first?.finish_reason == "length")
                #expect(chunks.last?.choices.isEmpty == true && chunks.last?.usage?.completion_tokens == 6)
                #expect(chunks.allSatisfy { $0.object == "chat.completion.chunk" })
            }
        }
    }

    @Test("completions: text, echo, stream")
    func completions() async throws {
        let (app, engine) = try tinyServer()
        defer { engine.shutdown() }
        try await app.test(.router) { client in
            var plain = ""
            try await client.execute(uri: "/v1/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"tiny","prompt":"hello","max_tokens":5,"temperature":0}"#)) { r in
                let c = try decode(Completion.self, r.body)
                #expect(c.object == "text_completion" && c.usage?.completion_tokens == 5)
                plain = c.choices[0].text
            }
            try await client.execute(uri: "/v1/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"tiny","prompt":"hello","max_tokens":5,"temperature":0,"echo":true}"#)) { r in
                let c = try decode(Completion.self, r.body)
                #expect(c.choices[0].text == "hello" + plain)
            }
            try await client.execute(uri: "/v1/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"tiny","prompt":"hello","max_tokens":5,"temperature":0,"stream":true}"#)) { r in
                let ev = events(r.body)
                #expect(ev.last == "[DONE]")
                let text = try ev.dropLast().map { try JSONDecoder().decode(Completion.self, from: Data($0.utf8)) }.map { $0.choices.first?.text ?? "" }.joined()
                #expect(text == plain)
            }
        }
    }

    @Test("guided_regex and guided_choice constrain the output; a bad regex is a 400")
    func guided() async throws {
        let (app, engine) = try tinyServer()
        defer { engine.shutdown() }
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"tiny","prompt":"hello","max_tokens":20,"temperature":1,"seed":2,"guided_regex":"[0-9]{3}-[0-9]{4}"}"#)) { r in
                let c = try decode(Completion.self, r.body)
                #expect(c.choices[0].text.wholeMatch(of: /[0-9]{3}-[0-9]{4}/) != nil, "\(c.choices[0].text)")
            }
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"tiny","messages":[{"role":"user","content":"ok?"}],"max_tokens":20,"guided_choice":["yes","no"]}"#)) { r in
                let c = try decode(ChatCompletion.self, r.body)
                #expect(["yes", "no"].contains(c.choices[0].message.content ?? ""))
            }
            try await client.execute(uri: "/v1/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"tiny","prompt":"hello","guided_regex":"(ab"}"#)) { r in
                #expect(r.status == .badRequest)
            }
        }
    }

    @Test("tool calls come back as tool_calls with arguments that parse")
    func tools() async throws {
        let (app, engine) = try tinyServer()
        defer { engine.shutdown() }
        let request = #"{"model":"tiny","messages":[{"role":"user","content":"weather in Paris?"}],"max_tokens":100,"temperature":0.7,"seed":1,"#
            + #""tools":[{"type":"function","function":{"name":"get_weather","description":"Weather for a city","#
            + #""parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],"tool_choice":"required"}"#
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders, body: body(request)) { r in
                #expect(r.status == .ok)
                let c = try decode(ChatCompletion.self, r.body)
                if c.choices[0].finish_reason == "tool_calls" {
                    let call = try #require(c.choices[0].message.tool_calls?.first)
                    #expect(call.function.name == "get_weather" && call.type == "function")
                    let args = try #require(try JSONSerialization.jsonObject(with: Data(call.function.arguments.utf8)) as? [String: Any])
                    #expect(args["city"] is String)
                } else {
                    #expect(c.choices[0].finish_reason == "length")  // ran out of tokens mid-call (random weights)
                }
            }
        }
    }

    @Test("errors: OpenAI bodies with the right status and field", arguments: [
        ("{not json", 400, nil as String?),
        (#"{"messages":[{"role":"user","content":"x"}]}"#, 400, "model"),
        (#"{"model":"tiny"}"#, 400, "messages"),
        (#"{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}"#, 404, "model"),
        (#"{"model":"tiny","messages":[{"role":"user","content":"x"}],"temperature":7}"#, 400, "temperature"),
        (#"{"model":"tiny","messages":[{"role":"user","content":"x"}],"n":99}"#, 400, "n"),
        (#"{"model":"tiny","messages":[{"role":"wizard","content":"x"}]}"#, 400, "messages[0].role"),
        (#"{"model":"tiny","messages":[{"role":"user","content":"x"}],"max_tokens":"ten"}"#, 400, "max_tokens"),
        (#"{"model":"tiny","messages":[]}"#, 400, "messages"),
        (#"{"model":"tiny","messages":[{"role":"user","content":"x"}],"tool_choice":{"type":"function","function":{"name":"nope"}},"tools":[{"type":"function","function":{"name":"a"}}]}"#, 400, "tool_choice"),
    ])
    func errors(_ json: String, _ status: Int, _ param: String?) async throws {
        let (app, engine) = try tinyServer()
        defer { engine.shutdown() }
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders, body: body(json)) { r in
                #expect(Int(r.status.code) == status)
                let e = try decode(ErrorResponse.self, r.body)
                #expect(!e.error.message.isEmpty)
                if let param { #expect(e.error.param == param, "\(e.error)") }
            }
        }
    }

    @Test("prompt longer than the context, oversized body, overload, API key")
    func limits() async throws {
        let (app, engine) = try tinyServer(maxWaiting: 0, apiKey: "sekret", maxBody: 2000, context: 128)
        defer { engine.shutdown() }
        let auth: HTTPFields = [.contentType: "application/json", .authorization: "Bearer sekret"]
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/models", method: .get) { #expect($0.status == .unauthorized) }
            try await client.execute(uri: "/health", method: .get) { #expect($0.status == .ok) }
            let long = String(repeating: "hello world ", count: 100)
            try await client.execute(uri: "/v1/completions", method: .post, headers: auth, body: body(#"{"model":"tiny","prompt":"\#(long.prefix(1500))"}"#)) { r in
                #expect(r.status == .badRequest)
                let e = try decode(ErrorResponse.self, r.body)
                #expect(e.error.code == "context_length_exceeded")
            }
            try await client.execute(uri: "/v1/completions", method: .post, headers: auth, body: body(#"{"model":"tiny","prompt":"\#(long)\#(long)"}"#)) { r in
                #expect(r.status == .contentTooLarge)
            }
            try await client.execute(uri: "/v1/completions", method: .post, headers: auth, body: body(#"{"model":"tiny","prompt":"hi"}"#)) { r in
                #expect(r.status == .serviceUnavailable && r.headers[.retryAfter] == "1")
            }
        }
    }
}
