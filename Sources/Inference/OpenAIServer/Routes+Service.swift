// SPDX-License-Identifier: Apache-2.0

public import Hummingbird
import NIOCore
import Support

/// The service endpoints: the web page (`/`), `/health`, `/metrics` (Prometheus text of
/// everything recorded through the state's metrics factory) and `/status` (JSON).
func addServiceRoutes(to router: Router<BasicRequestContext>, state: ServerState) {
    router.get("/") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: WebPage.html)))
    }
    router.get("/health") { _, _ in
        state.ready.load(ordering: .relaxed)
            ? jsonResponse(["status": "ok"])
            : jsonResponse(["status": "loading"], status: .serviceUnavailable)
    }
    router.get("/metrics") { _, _ in
        state.recordMetrics()
        var bytes: [UInt8] = []
        state.metricsFactory.registry.emit(into: &bytes)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
    router.get("/status") { _, _ in
        let service = try state.requireService()
        let s = service.engine.drainStats()
        state.metrics.update(from: s)
        struct Status: Encodable {
            var model: String
            var running: Int
            var waiting: Int
            var kv_usage: Double
            var kv_pages: Int
            var generation_tokens_total: Int
            var prompt_tokens_total: Int
            var preemptions_total: Int
            var tokens_per_second: Double
            var router: JSONValue?
        }
        return jsonResponse(Status(model: service.modelName, running: s.running, waiting: s.waiting, kv_usage: s.kvUsage,
                                   kv_pages: s.totalPages, generation_tokens_total: s.generationTokensTotal,
                                   prompt_tokens_total: s.promptTokensTotal, preemptions_total: s.preemptions,
                                   tokens_per_second: state.metrics.rate.withLock { $0 }, router: service.router?.status()))
    }
}
