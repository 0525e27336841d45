// SPDX-License-Identifier: Apache-2.0

import Foundation
public import Hummingbird
public import InferenceEngine
public import Logging
import NIOCore
import OpenAIAPI
import Support
import Prometheus
import TransformerModels
public import Synchronization

/// Settings of the HTTP server.
public struct ServerConfiguration: Sendable {
    /// Address to bind.
    public var host = "127.0.0.1"
    /// Port (0 picks a free one).
    public var port = 8080
    /// Require `Authorization: Bearer <apiKey>` on `/v1/*` when set.
    public var apiKey: String?
    /// Largest request body accepted.
    public var maxBodyBytes = 4 << 20
    /// Allow cross-origin browser clients.
    public var cors = true

    public init() {}
}

/// Live server state shared by the handlers.
public final class ServerState: Sendable {
    /// Whether the model is loaded (`/health` answers 503 until then).
    public let ready = Atomic<Bool>(false)
    private let serviceBox = Mutex<ChatService?>(nil)
    /// The chat service, once the model is loaded.
    public var service: ChatService? {
        get { serviceBox.withLock { $0 } }
        set { serviceBox.withLock { $0 = newValue } }
    }
    /// Prometheus registry behind `/metrics`.
    let registry = PrometheusCollectorRegistry()
    let metrics: ServerMetrics

    public init() {
        metrics = ServerMetrics(registry: registry)
    }
}

/// The Prometheus series Tern exports (vLLM / llama.cpp semantics, `tern_` prefix).
final class ServerMetrics: Sendable {
    let running, waiting, kvUsage, kvCached: Gauge
    let promptTokens, generationTokens, preemptions, requests, prefixHits: Counter
    let ttft, itl, e2e: DurationHistogram
    let tokensPerSecond: Gauge
    let adaptersResident, adapterPages: Gauge
    let adapterLoads, aborted: Counter
    private let lastLoRA = Mutex<(loads: Int, aborted: Int)>((0, 0))
    let rate = Mutex<Double>(0)
    private let last = Mutex<(prompt: Int, generation: Int, preemptions: Int, finished: Int, hits: Int, time: Date, rateTokens: Int)>((0, 0, 0, 0, 0, Date(), 0))

    init(registry: PrometheusCollectorRegistry) {
        running = registry.makeGauge(name: "tern_requests_running", help: "Requests being computed")
        waiting = registry.makeGauge(name: "tern_requests_waiting", help: "Requests queued")
        kvUsage = registry.makeGauge(name: "tern_kv_cache_usage_ratio", help: "Fraction of KV pages held by running requests")
        kvCached = registry.makeGauge(name: "tern_kv_cache_prefix_pages", help: "KV pages kept only by the prefix cache")
        tokensPerSecond = registry.makeGauge(name: "tern_generation_tokens_per_second", help: "Generated tokens per second since the last scrape")
        promptTokens = registry.makeCounter(name: "tern_prompt_tokens_total", help: "Prompt tokens received")
        generationTokens = registry.makeCounter(name: "tern_generation_tokens_total", help: "Tokens generated")
        preemptions = registry.makeCounter(name: "tern_preemptions_total", help: "Sequences preempted for lack of KV pages")
        requests = registry.makeCounter(name: "tern_requests_finished_total", help: "Requests finished")
        prefixHits = registry.makeCounter(name: "tern_prefix_cache_hit_tokens_total", help: "Prompt tokens served from the prefix cache")
        adaptersResident = registry.makeGauge(name: "tern_lora_adapters_resident", help: "LoRA adapters resident in pool pages")
        adapterPages = registry.makeGauge(name: "tern_lora_adapter_pages", help: "Pool pages held by resident LoRA adapters")
        adapterLoads = registry.makeCounter(name: "tern_lora_adapter_loads_total", help: "LoRA adapters loaded into pool pages (including prefetches)")
        aborted = registry.makeCounter(name: "tern_requests_aborted_total", help: "Queued requests dropped by the early-abort scheduler")
        let buckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60].map { .milliseconds(Int($0 * 1000)) }
        ttft = registry.makeDurationHistogram(name: "tern_time_to_first_token_seconds", buckets: buckets, help: "Time to first token")
        itl = registry.makeDurationHistogram(name: "tern_inter_token_latency_seconds", buckets: buckets, help: "Time between tokens")
        e2e = registry.makeDurationHistogram(name: "tern_e2e_request_latency_seconds", buckets: buckets, help: "Request latency")
    }

    /// Moves the engine's counters and samples into the Prometheus series.
    func update(from s: EngineStats) {
        running.set(Double(s.running))
        waiting.set(Double(s.waiting))
        kvUsage.set(s.kvUsage)
        kvCached.set(Double(s.cachedPages))
        adaptersResident.set(Double(s.residentAdapters))
        adapterPages.set(Double(s.adapterPages))
        lastLoRA.withLock { l in
            adapterLoads.increment(by: Int64(s.adapterLoads - l.loads))
            aborted.increment(by: Int64(s.aborted - l.aborted))
            l = (s.adapterLoads, s.aborted)
        }
        for x in s.ttft { ttft.record(.nanoseconds(Int64(x * 1e9))) }
        for x in s.interTokenLatency { itl.record(.nanoseconds(Int64(x * 1e9))) }
        for x in s.e2eLatency { e2e.record(.nanoseconds(Int64(x * 1e9))) }
        last.withLock { l in
            promptTokens.increment(by: Int64(s.promptTokensTotal - l.prompt))
            generationTokens.increment(by: Int64(s.generationTokensTotal - l.generation))
            preemptions.increment(by: Int64(s.preemptions - l.preemptions))
            requests.increment(by: Int64(s.finished - l.finished))
            prefixHits.increment(by: Int64(s.prefixCacheHitTokens - l.hits))
            let now = Date()
            let dt = now.timeIntervalSince(l.time)
            if dt >= 0.5 {
                let r = Double(s.generationTokensTotal - l.rateTokens) / dt
                tokensPerSecond.set(r)
                rate.withLock { $0 = r }
                l.time = now
                l.rateTokens = s.generationTokensTotal
            }
            l.prompt = s.promptTokensTotal
            l.generation = s.generationTokensTotal
            l.preemptions = s.preemptions
            l.finished = s.finished
            l.hits = s.prefixCacheHitTokens
        }
    }
}

/// Requires the API key on `/v1/*` routes.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/") else { return try await next(request, context) }
        let auth = request.headers[.authorization] ?? ""
        guard auth == "Bearer \(key)" else {
            return errorResponse(APIError(status: .unauthorized, message: "missing or invalid API key (use Authorization: Bearer <key>)",
                                          type: "authentication_error", code: "invalid_api_key"))
        }
        return try await next(request, context)
    }
}

let jsonEncoder: JSONEncoder = {
    let e = JSONEncoder()
    e.outputFormatting = [.withoutEscapingSlashes]
    return e
}()

func jsonResponse<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) -> Response {
    let data = (try? jsonEncoder.encode(value)) ?? Data("{}".utf8)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

func errorResponse(_ e: APIError) -> Response {
    var r = jsonResponse(ErrorResponse(message: e.message, type: e.type, param: e.param, code: e.code), status: e.status)
    if let s = e.retryAfter { r.headers[.retryAfter] = String(s) }
    return r
}

/// Decodes a JSON body, turning every decoding problem into a 400 that names the field.
func decodeBody<T: Decodable>(_ type: T.Type, _ request: inout Request, maxBytes: Int) async throws(APIError) -> T {
    let buffer: ByteBuffer
    do {
        buffer = try await request.collectBody(upTo: maxBytes)
    } catch {
        throw APIError(status: .contentTooLarge, message: "request body exceeds \(maxBytes) bytes", type: "invalid_request_error", code: "body_too_large")
    }
    do {
        return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    } catch let DecodingError.keyNotFound(key, ctx) {
        let path = (ctx.codingPath + [key]).map(\.stringValue).joined(separator: ".")
        throw .badRequest("missing required field '\(path)'", param: path)
    } catch let DecodingError.typeMismatch(_, ctx) {
        let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
        throw .badRequest("field '\(path)' has the wrong type: \(ctx.debugDescription)", param: path)
    } catch let DecodingError.valueNotFound(_, ctx) {
        let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
        throw .badRequest("field '\(path)' must not be null", param: path)
    } catch let DecodingError.dataCorrupted(ctx) {
        let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
        throw .badRequest(path.isEmpty ? "the body is not valid JSON" : "field '\(path)' is invalid: \(ctx.debugDescription)", param: path.isEmpty ? nil : path)
    } catch {
        throw .badRequest("the body is not valid JSON")
    }
}

/// Server-sent events: `data: <json>\n\n` per item, then `data: [DONE]\n\n`. A failed write means
/// the client left: the stream is dropped, which cancels the request in the engine.
func sseResponse<S: AsyncSequence & Sendable>(_ stream: S) -> Response where S.Element: Encodable {
    Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
             body: ResponseBody { writer in
                 do {
                     for try await item in stream {
                         let data = try jsonEncoder.encode(item)
                         var buf = ByteBuffer(string: "data: ")
                         buf.writeBytes(data)
                         buf.writeString("\n\n")
                         try await writer.write(buf)
                     }
                 } catch let e as APIError {
                     let body = try jsonEncoder.encode(ErrorResponse(message: e.message, type: e.type, param: e.param, code: e.code))
                     try await writer.write(ByteBuffer(string: "data: \(String(decoding: body, as: UTF8.self))\n\n"))
                 } catch let e as EngineError {
                     let a = APIError(e)
                     let body = try jsonEncoder.encode(ErrorResponse(message: a.message, type: a.type, param: a.param, code: a.code))
                     try await writer.write(ByteBuffer(string: "data: \(String(decoding: body, as: UTF8.self))\n\n"))
                 }
                 try await writer.write(ByteBuffer(string: "data: [DONE]\n\n"))
                 try await writer.finish(nil)
             })
}

/// Builds the router: OpenAI endpoints, health, metrics, the web page.
public func buildRouter(state: ServerState, configuration: ServerConfiguration) -> Router<BasicRequestContext> {
    let loading = APIError(status: .serviceUnavailable, message: "the model is loading", type: "server_error", code: "loading", retryAfter: 2)
    let router = Router()
    if configuration.cors { router.add(middleware: CORSMiddleware(allowOrigin: .originBased, allowHeaders: [.accept, .authorization, .contentType, .origin], allowMethods: [.get, .post, .options])) }
    if let key = configuration.apiKey { router.add(middleware: APIKeyMiddleware(key: key)) }
    let maxBody = configuration.maxBodyBytes

    router.get("/") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: WebPage.html)))
    }
    router.get("/health") { _, _ in
        state.ready.load(ordering: .relaxed)
            ? jsonResponse(["status": "ok"])
            : jsonResponse(["status": "loading"], status: .serviceUnavailable)
    }
    router.get("/metrics") { _, _ in
        if let service = state.service { state.metrics.update(from: service.engine.drainStats()) }
        var bytes: [UInt8] = []
        state.registry.emit(into: &bytes)
        if let router = state.service?.router { bytes += Array(router.metricsText().utf8) }
        if let store = state.service?.engine.adapters {
            let d = store.diskStats
            bytes += Array(("# HELP tern_lora_adapter_disk_loads_total Adapters read from disk into host memory (S-LoRA's disk tier)\n"
                + "# TYPE tern_lora_adapter_disk_loads_total counter\ntern_lora_adapter_disk_loads_total \(d.loads)\n"
                + "# HELP tern_lora_adapters_host_cached Disk-registered adapters now in host memory\n"
                + "# TYPE tern_lora_adapters_host_cached gauge\ntern_lora_adapters_host_cached \(d.cached)\n").utf8)
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
    router.get("/status") { _, _ in
        guard let service = state.service else { return errorResponse(loading) }
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
    router.get("/v1/models") { _, _ in
        guard let service = state.service else { return errorResponse(loading) }
        var models: [ModelList.Model] = [.init(id: service.modelName, created: service.created, owned_by: "tern", root: service.modelName)]
        for name in service.engine.adapters?.names ?? [] {
            models.append(.init(id: name, created: service.created, owned_by: "tern", root: name, parent: service.modelName))
        }
        return jsonResponse(ModelList(data: models))
    }
    // LoRA adapters at run time (vLLM's endpoints). Loading is confined to --adapter-dir.
    router.post("/v1/load_lora_adapter") { request, _ -> Response in
        var request = request
        do {
            let body = try await decodeBody(LoadLoRAAdapterRequest.self, &request, maxBytes: 64 << 10)
            guard let service = state.service else { throw loading }
            guard let store = service.engine.adapters else {
                throw APIError(status: .badRequest, message: "this server was started without LoRA support (--adapter-dir or --lora)",
                               type: "invalid_request_error", code: "lora_disabled")
            }
            let adapter = try await loadAdapter(store, name: body.lora_name, path: body.lora_path)
            return jsonResponse(LoRAAdapterLoaded(lora_name: adapter.name, rank: adapter.maxRank,
                                                  targets: adapter.targets.map(\.ggufName), parameters: adapter.parameterCount))
        } catch let e as APIError {
            return errorResponse(e)
        } catch {
            return errorResponse(APIError(status: .internalServerError, message: "\(error)", type: "server_error"))
        }
    }
    router.post("/v1/unload_lora_adapter") { request, _ -> Response in
        var request = request
        do {
            let body = try await decodeBody(UnloadLoRAAdapterRequest.self, &request, maxBytes: 64 << 10)
            guard let service = state.service else { throw loading }
            guard let store = service.engine.adapters else { throw APIError(AdapterStoreError.unknown(body.lora_name)) }
            do throws(AdapterStoreError) {
                try store.unload(body.lora_name)
            } catch {
                throw APIError(error)
            }
            return jsonResponse(["lora_name": body.lora_name, "status": "unloaded"])
        } catch let e as APIError {
            return errorResponse(e)
        } catch {
            return errorResponse(APIError(status: .internalServerError, message: "\(error)", type: "server_error"))
        }
    }
    router.post("/v1/chat/completions") { request, _ -> Response in
        var request = request
        do {
            let body = try await decodeBody(ChatCompletionRequest.self, &request, maxBytes: maxBody)
            guard let service = state.service else { throw loading }
            if body.stream == true {
                return sseResponse(try service.streamChat(body, includeUsage: body.stream_options?.include_usage == true))
            }
            return jsonResponse(try await service.complete(body))
        } catch let e as APIError {
            return errorResponse(e)
        } catch let e as EngineError {
            return errorResponse(APIError(e))
        }
    }
    router.post("/v1/completions") { request, _ -> Response in
        var request = request
        do {
            let body = try await decodeBody(CompletionRequest.self, &request, maxBytes: maxBody)
            guard let service = state.service else { throw loading }
            if body.stream == true {
                return sseResponse(try service.streamCompletion(body, includeUsage: body.stream_options?.include_usage == true))
            }
            return jsonResponse(try await service.complete(body))
        } catch let e as APIError {
            return errorResponse(e)
        } catch let e as EngineError {
            return errorResponse(APIError(e))
        }
    }
    return router
}

/// The body of a successful `POST /v1/load_lora_adapter`.
struct LoRAAdapterLoaded: Encodable {
    var lora_name: String
    var rank: Int
    var targets: [String]
    var parameters: Int
}

/// Parses and checks an adapter off the event loop (files can be tens of megabytes).
func loadAdapter(_ store: AdapterStore, name: String, path: String) async throws(APIError) -> LoRAAdapter {
    let result: Result<LoRAAdapter, AdapterStoreError> = await withCheckedContinuation { c in
        Thread.detachNewThread {
            do throws(AdapterStoreError) {
                c.resume(returning: .success(try store.load(name: name, path: path)))
            } catch {
                c.resume(returning: .failure(error))
            }
        }
    }
    switch result {
    case .success(let a): return a
    case .failure(let e): throw APIError(e)
    }
}

extension APIError {
    /// Maps an adapter-store error to its HTTP meaning.
    public init(_ e: AdapterStoreError) {
        switch e {
        case .unknown:
            self = APIError(status: .notFound, message: e.description, type: "not_found_error", param: "lora_name", code: "adapter_not_found")
        case .invalidName:
            self = .badRequest(e.description, param: "lora_name", code: "invalid_adapter_name")
        case .alreadyLoaded:
            self = .badRequest(e.description, param: "lora_name", code: "adapter_already_loaded")
        case .pathNotAllowed:
            self = APIError(status: .forbidden, message: e.description, type: "permission_error", param: "lora_path", code: "path_not_allowed")
        case .badFile:
            self = .badRequest(e.description, param: "lora_path", code: "invalid_adapter")
        }
    }
}
