// SPDX-License-Identifier: Apache-2.0

import BestEffortServing
import Foundation
import Hummingbird
import HummingbirdTesting
import OpenAIAPI
import TestSupport
import Testing

/// A hand-built policy over the tiny model's two layers: `compare` → tier A (1 layer),
/// `sentiment` → tier B (2 layers, 1-shot), `copy` → drop, anything else → A.
func handPolicy() -> (RouterPolicyFile, [TierSpec]) {
    let tiers = [TierSpec(name: "A", layers: 1, shots: 0), TierSpec(name: "B", layers: 2, shots: 1)]
    let inputs = 4 + 2 + 1
    var w1 = [Float](repeating: 0, count: inputs * inputs)
    for i in 0..<inputs { w1[i * inputs + i] = 1 }  // h = ReLU(s) = s
    var w2 = [Float](repeating: 0, count: 3 * inputs)
    w2[0 * inputs + 0] = 1  // Q(A) = compare
    w2[1 * inputs + 1] = 1  // Q(B) = sentiment
    w2[2 * inputs + 3] = 1  // Q(drop) = copy
    let net = QNetworkWeights(inputs: inputs, hidden: inputs, outputs: 3, w1: w1, b1: .init(repeating: 0, count: inputs),
                              w2: w2, b2: [0, 0, 0])
    let settings = SimulationSettings(deadlines: [60, 60, 60, 60], allowDrop: true)
    return (RouterPolicyFile(tiers: ["A", "B"], tasks: ChoiceTask.allCases.map(\.name), settings: settings, network: net, training: [:]), tiers)
}

@Suite("Learned tier routing in the server (tern serve --router)")
struct TierRoutingTests {
    @Test("metadata.task picks the tier; few-shot tiers lengthen the prompt; drops are 503; unknown tasks 400; metrics and status count per tier")
    func routing() async throws {
        let (policy, tiers) = handPolicy()
        let router = try LiveRouter(policy: policy, table: tiers, modelLayers: 2)
        let (app, engine) = try tinyServer(router: router)
        defer { engine.shutdown() }
        @Sendable func completion(_ task: String?) -> ByteBuffer {
            let meta = task.map { #","metadata":{"task":"\#($0)"}"# } ?? ""
            return body(#"{"model":"tiny","prompt":"Question: Which number is larger, 12 or 40?\nAnswer:","max_tokens":3,"temperature":0\#(meta)}"#)
        }
        try await app.test(.router) { client in
            var promptTokens: [String: Int] = [:]
            for task in ["compare", "sentiment", "capital"] {
                try await client.execute(uri: "/v1/completions", method: .post, headers: jsonHeaders, body: completion(task)) { r in
                    #expect(r.status == .ok)
                    let c = try decode(Completion.self, r.body)
                    #expect(c.system_fingerprint == (task == "sentiment" ? "tern-tier-B" : "tern-tier-A"), "\(task)")
                    promptTokens[task] = c.usage?.prompt_tokens
                }
            }
            // Tier B prepends one solved example of the task.
            #expect(promptTokens["sentiment"]! > promptTokens["compare"]! + 5)
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":2}"#)) { r in
                #expect(r.status == .ok)
                let c = try decode(ChatCompletion.self, r.body)
                #expect(c.system_fingerprint == "tern-tier-A")  // unlabelled
            }
            // Streaming responses name the tier on every chunk.
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders, body: body(
                #"{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":3,"stream":true,"metadata":{"task":"sentiment"}}"#)) { r in
                let chunks = events(r.body).filter { $0 != "[DONE]" }
                #expect(chunks.count >= 2 && chunks.allSatisfy { $0.contains(#""system_fingerprint":"tern-tier-B""#) }, "\(chunks)")
            }
            try await client.execute(uri: "/v1/completions", method: .post, headers: jsonHeaders, body: completion("copy")) { r in
                #expect(r.status == .serviceUnavailable)
                #expect(String(buffer: r.body).contains("dropped_by_router"))
            }
            try await client.execute(uri: "/v1/completions", method: .post, headers: jsonHeaders, body: completion("poetry")) { r in
                #expect(r.status == .badRequest)
                #expect(String(buffer: r.body).contains("metadata.task"))
            }
            try await client.execute(uri: "/metrics", method: .get) { r in
                let text = String(buffer: r.body)
                #expect(text.contains(#"tern_router_requests_total{tier="A"} 3"#))
                #expect(text.contains(#"tern_router_requests_total{tier="B"} 2"#))
                #expect(text.contains(#"tern_router_in_flight{tier="A"} 0"#))
                #expect(text.contains(#"tern_router_on_time_total{tier="A"} 3"#))
                #expect(text.contains("tern_router_dropped_total 1"))
                #expect(text.contains("tern_router_unlabeled_total 1"))
            }
            try await client.execute(uri: "/status", method: .get) { r in
                let j = try #require(try JSONSerialization.jsonObject(with: Data(r.body.readableBytesView)) as? [String: Any])
                let tiers = try #require((j["router"] as? [String: Any])?["tiers"] as? [[String: Any]])
                #expect(tiers.map { $0["name"] as? String } == ["A", "B"])
                #expect(tiers.map { $0["routed"] as? Int } == [3, 2])
            }
            try await client.execute(uri: "/", method: .get) { r in #expect(String(buffer: r.body).contains("r-tiers")) }
        }
    }
}
