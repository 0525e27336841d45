// SPDX-License-Identifier: Apache-2.0

import CoreMetrics
import Foundation
import Hummingbird
import HummingbirdTesting
import InferenceEngine
import OpenAIAPI
import Support
import Synchronization
import TestSupport
import Testing

/// A fake router (the real one, `LiveRouter`, is tested in BestEffortServingTests and by
/// `tern serve --router` in the CLI tests): labels pick a behaviour.
final class LabelRouter: RequestRouter {
    let counts = Mutex((started: 0, finished: 0, completed: 0))

    func route(metadata: [String: String]?) throws(RoutingError) -> RoutingDecision {
        switch metadata?["mode"] {
        case "shed": throw .shed("busy, come back later")
        case "bad": throw .invalidLabel("metadata.mode 'bad' is not a mode", parameter: "metadata.mode")
        default: return RoutingDecision(layerLimit: 1, promptPrefix: "Q: ", fingerprint: "fake-tier", context: 7)
        }
    }

    func started(_ decision: RoutingDecision, count: Int) {
        #expect(decision.context as? Int == 7)
        counts.withLock { $0.started += count }
    }

    func finished(_ decision: RoutingDecision, completed: Bool) {
        counts.withLock {
            $0.finished += 1
            if completed { $0.completed += 1 }
        }
    }

    func recordMetrics(into factory: any MetricsFactory) {
        Gauge(label: "fake_router_requests_started", factory: factory).record(counts.withLock { $0.started })
    }
    func status() -> JSONValue { .object(["kind": .string("fake")]) }
}

@Suite("The server routes through the RequestRouter protocol")
struct RequestRouterTests {
    let chat = #"{"model":"tiny","messages":[{"role":"user","content":"hello"}],"max_tokens":3,"n":2,"metadata":{"mode":"MODE"}}"#

    @Test("decisions, rejections, counters, metrics and status all go through the protocol")
    func fakeRouter() async throws {
        let router = LabelRouter()
        let (app, engine) = try tinyServer(router: router)
        defer { engine.shutdown() }
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders,
                                     body: body(chat.replacingOccurrences(of: "MODE", with: "ok"))) { r in
                #expect(r.status == .ok)
                let c = try decode(ChatCompletion.self, r.body)
                #expect(c.system_fingerprint == "fake-tier" && c.choices.count == 2)
            }
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders,
                                     body: body(chat.replacingOccurrences(of: "MODE", with: "shed"))) { r in
                #expect(r.status == .serviceUnavailable && r.headers[.retryAfter] == "1")
                #expect(String(buffer: r.body).contains("dropped_by_router") && String(buffer: r.body).contains("busy, come back later"))
            }
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: jsonHeaders,
                                     body: body(chat.replacingOccurrences(of: "MODE", with: "bad"))) { r in
                #expect(r.status == .badRequest && String(buffer: r.body).contains("metadata.mode"))
            }
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(String(buffer: r.body).contains("fake_router_requests_started 2"))
            }
            try await client.execute(uri: "/status", method: .get) { r in
                #expect(String(buffer: r.body).contains(#""kind":"fake""#))
            }
        }
        let c = router.counts.withLock { $0 }
        #expect(c.started == 2 && c.finished == 2 && c.completed == 2)
    }
}
