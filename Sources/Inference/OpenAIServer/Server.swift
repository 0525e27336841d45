// SPDX-License-Identifier: Apache-2.0

import Foundation
public import Hummingbird
public import CoreMetrics
public import Prometheus
public import Logging
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
    /// The swift-metrics factory behind `/metrics`: everything recorded through it is exported.
    public let metricsFactory: PrometheusMetricsFactory
    let metrics: ServerMetrics
    private let scrapeHooks = Mutex<[@Sendable (any MetricsFactory) -> Void]>([])

    /// Creates the state; `metricsFactory` defaults to a fresh registry (see ``PrometheusMetricsFactory/tern()``).
    public init(metricsFactory: PrometheusMetricsFactory = .tern()) {
        self.metricsFactory = metricsFactory
        metrics = ServerMetrics(factory: metricsFactory)
    }

    /// Runs `hook` before every `/metrics` scrape, so a part that keeps its own counters (an
    /// adapter store's disk tier) records them through swift-metrics into ``metricsFactory``.
    public func onScrape(_ hook: @escaping @Sendable (any MetricsFactory) -> Void) {
        scrapeHooks.withLock { $0.append(hook) }
    }

    /// Records the engine's, the router's and every hooked part's series.
    func recordMetrics() {
        if let service {
            metrics.update(from: service.engine.drainStats())
            service.router?.recordMetrics(into: metricsFactory)
        }
        for hook in scrapeHooks.withLock({ $0 }) { hook(metricsFactory) }
    }

    /// The chat service, or the 503 "the model is loading" a route answers until it is ready.
    public func requireService() throws(APIError) -> ChatService {
        guard let service else {
            throw APIError(status: .serviceUnavailable, message: "the model is loading", type: "server_error", code: "loading", retryAfter: 2)
        }
        return service
    }
}

/// Requires the API key on `/v1/*` routes.
struct APIKeyMiddleware<Context: RequestContext>: RouterMiddleware {
    let key: String
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/") else { return try await next(request, context) }
        guard request.headers[.authorization] == "Bearer \(key)" else {
            throw APIError(status: .unauthorized, message: "missing or invalid API key (use Authorization: Bearer <key>)",
                           type: "authentication_error", code: "invalid_api_key")
        }
        return try await next(request, context)
    }
}

/// Builds the router: the middleware (CORS, errors, API key), then each endpoint family: service
/// (web page, health, metrics, status), models, generation (chat completions and completions). Systems that serve
/// routes of their own add them to the returned router (they run behind the same middleware).
public func buildRouter(state: ServerState, configuration: ServerConfiguration) -> Router<BasicRequestContext> {
    let router = Router()
    // Outermost first: CORS headers go on every response, error bodies included.
    if configuration.cors { router.add(middleware: CORSMiddleware(allowOrigin: .originBased, allowHeaders: [.accept, .authorization, .contentType, .origin], allowMethods: [.get, .post, .options])) }
    router.add(middleware: ErrorMiddleware())
    if let key = configuration.apiKey { router.add(middleware: APIKeyMiddleware(key: key)) }
    addServiceRoutes(to: router, state: state)
    addModelRoutes(to: router, state: state)
    addGenerationRoutes(to: router, state: state, maxBodyBytes: configuration.maxBodyBytes)
    return router
}

/// Runs the server until it stops: it answers at once (`/health` is 503 "loading" until the model
/// is ready) while `load` builds the chat service on a thread of its own; the service's engine is
/// started when it is published and shut down when the server ends. A failed load ends the server
/// with that error.
/// - Parameters:
///   - onListening: called with the bound port once the server accepts connections.
///   - onReady: called once the service is published and `/health` answers 200.
public func runServer(router: Router<BasicRequestContext>, state: ServerState, configuration: ServerConfiguration, logger: Logger,
                      onListening: @escaping @Sendable (Int) -> Void = { _ in }, onReady: @escaping @Sendable (ChatService) -> Void = { _ in },
                      load: @escaping @Sendable () throws -> ChatService) async throws {
    let loaded = Task.detached { () throws -> ChatService in
        let service = try load()
        service.engine.start()
        state.service = service
        state.ready.store(true, ordering: .relaxed)
        onReady(service)
        return service
    }
    let app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "tern"),
        onServerRunning: { channel in onListening(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
    defer { if let engine = state.service?.engine { engine.shutdown() } }
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await app.runService() }
        group.addTask { _ = try await loaded.value }
        try await group.next()
        try await group.next()
    }
}
