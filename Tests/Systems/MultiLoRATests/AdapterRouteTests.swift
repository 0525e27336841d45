// SPDX-License-Identifier: Apache-2.0

import Foundation
import Hummingbird
import HummingbirdTesting
import InferenceEngine
import MultiLoRA
import OpenAIAPI
import OpenAIServer
import TestSupport
import Testing
import TransformerModels

@Suite("LoRA adapters over HTTP")
struct AdapterRouteTests {
    @Test("adapters are model ids; load and unload confined to --adapter-dir; unknown ids are 404")
    func adapterRoutes() async throws {
        let dir = NSTemporaryDirectory() + "tern-route-adapters-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var hp: ModelHyperparameters?
        let (app, engine) = try tinyServer(adapters: { model in
            hp = model.hyperparameters
            let s = AdapterStore(hyperparameters: model.hyperparameters, allowedDirectories: [dir], reservedNames: ["tiny"])
            try s.register(LoRAAdapter.synthetic(name: "style", hyperparameters: model.hyperparameters, rank: 8,
                                                 targets: LoRAAdapter.Target.allCases, magnitude: 1, seed: 1))
            return s
        }, routes: AdapterRoutes.register)
        defer { engine.shutdown() }
        try LoRAAdapter.synthetic(name: "new", hyperparameters: hp!, rank: 2, seed: 2).ggufWriter(architecture: "llama").write(to: dir + "/new.gguf")
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/models", method: .get) { r in
                let list = try decode(ModelList.self, r.body)
                #expect(list.data.map(\.id) == ["tiny", "style"] && list.data[1].parent == "tiny")
            }
            var texts: [String: String] = [:]
            for model in ["tiny", "style"] {
                try await client.execute(uri: "/v1/completions", method: .post, headers: jsonHeaders, body: body(
                    #"{"model":"\#(model)","prompt":"hello world","max_tokens":8,"temperature":0}"#)) { r in
                    #expect(r.status == .ok)
                    let c = try decode(Completion.self, r.body)
                    #expect(c.model == model)
                    texts[model] = c.choices[0].text
                }
            }
            #expect(texts["tiny"] != texts["style"], "the adapter should change the greedy output")
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"nope","messages":[{"role":"user","content":"hi"}]}"#)) { r in
                #expect(r.status == .notFound)
                #expect(String(buffer: r.body).contains("model_not_found"))
            }
            try await client.execute(uri: "/v1/load_lora_adapter", method: .post, headers: jsonHeaders, body: body(
                #"{"lora_name":"evil","lora_path":"/etc/passwd"}"#)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/load_lora_adapter", method: .post, headers: jsonHeaders, body: body(
                #"{"lora_name":"new","lora_path":"\#(dir)/new.gguf"}"#)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"new","prompt":"hello","max_tokens":2}"#)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/unload_lora_adapter", method: .post, headers: jsonHeaders, body: body(
                #"{"lora_name":"new"}"#)) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/unload_lora_adapter", method: .post, headers: jsonHeaders, body: body(
                #"{"lora_name":"new"}"#)) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"new","prompt":"hello","max_tokens":2}"#)) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/v1/load_lora_adapter", method: .post, headers: jsonHeaders, body: body(
                #"{"lora_name":"x"}"#)) { #expect($0.status == .badRequest) }
        }
    }
}
