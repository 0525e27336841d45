// SPDX-License-Identifier: Apache-2.0

public import CoreMetrics
import Foundation
public import Hummingbird
public import OpenAIServer
import OpenAIAPI
public import InferenceEngine
import TransformerModels

/// vLLM's run-time adapter endpoints, served by the one Tern server:
/// `POST /v1/load_lora_adapter` (`{"lora_name", "lora_path"}`, confined to the store's allowed
/// directories) and `POST /v1/unload_lora_adapter` (`{"lora_name"}`); plus the host store's
/// disk-tier series on `/metrics`. They act on the served engine's ``AdapterStore``.
public enum AdapterRoutes {
    /// Adds the endpoints to `router` (after ``buildRouter(state:configuration:)``, so they run
    /// behind its middleware) and the store's series to `state`'s scrapes.
    public static func register(on router: Router<BasicRequestContext>, state: ServerState) {
        router.post("/v1/load_lora_adapter") { request, _ -> Response in
            var request = request
            let body = try await request.decodeJSON(LoadLoRAAdapterRequest.self, maxBytes: 64 << 10)
            let service = try state.requireService()
            guard let store = service.engine.adapters as? AdapterStore else {
                throw APIError(status: .badRequest, message: "this server was started without LoRA support (--adapter-dir or --lora)",
                               type: "invalid_request_error", code: "lora_disabled")
            }
            let adapter = try await load(store, name: body.lora_name, path: body.lora_path)
            return jsonResponse(Loaded(lora_name: adapter.name, rank: adapter.maxRank, targets: adapter.targets.map(\.ggufName),
                                       parameters: adapter.parameterCount))
        }
        router.post("/v1/unload_lora_adapter") { request, _ -> Response in
            var request = request
            let body = try await request.decodeJSON(UnloadLoRAAdapterRequest.self, maxBytes: 64 << 10)
            let service = try state.requireService()
            guard let store = service.engine.adapters as? AdapterStore else { throw AdapterStoreError.unknown(body.lora_name) }
            try store.unload(body.lora_name)
            return jsonResponse(["lora_name": body.lora_name, "status": "unloaded"])
        }
        state.onScrape { factory in
            guard let store = state.service?.engine.adapters as? AdapterStore else { return }
            store.recordMetrics(into: factory)
        }
    }

    /// The body of a successful `POST /v1/load_lora_adapter`.
    struct Loaded: Encodable {
        var lora_name: String
        var rank: Int
        var targets: [String]
        var parameters: Int
    }

    /// Parses and checks an adapter off the event loop (files can be tens of megabytes).
    static func load(_ store: AdapterStore, name: String, path: String) async throws(AdapterStoreError) -> LoRAAdapter {
        let result: Result<LoRAAdapter, AdapterStoreError> = await withCheckedContinuation { c in
            Thread.detachNewThread {
                do throws(AdapterStoreError) {
                    c.resume(returning: .success(try store.load(name: name, path: path)))
                } catch {
                    c.resume(returning: .failure(error))
                }
            }
        }
        return try result.get()
    }
}

extension AdapterStoreError: APIErrorConvertible {
    /// Unknown adapters are 404, paths outside the allowed directories 403, bad names and files 400.
    public var apiError: APIError {
        switch self {
        case .unknown:
            APIError(status: .notFound, message: description, type: "not_found_error", param: "lora_name", code: "adapter_not_found")
        case .invalidName:
            .badRequest(description, param: "lora_name", code: "invalid_adapter_name")
        case .alreadyLoaded:
            .badRequest(description, param: "lora_name", code: "adapter_already_loaded")
        case .pathNotAllowed:
            APIError(status: .forbidden, message: description, type: "permission_error", param: "lora_path", code: "path_not_allowed")
        case .badFile:
            .badRequest(description, param: "lora_path", code: "invalid_adapter")
        }
    }
}

extension AdapterStore {
    /// The disk tier's series through swift-metrics: adapters read from disk so far (a counter
    /// moved by what is new since the highest reading recorded) and disk-registered adapters in memory.
    public func recordMetrics(into factory: any MetricsFactory) {
        let d = diskStats
        // Readings may arrive out of order: the counter moves only forward.
        let step = reportedDiskLoads.withLock { recorded in
            defer { recorded = max(recorded, d.loads) }
            return max(0, d.loads - recorded)
        }
        Counter(label: "tern_lora_adapter_disk_loads_total", factory: factory).increment(by: step)
        Gauge(label: "tern_lora_adapters_host_cached", factory: factory).record(d.cached)
    }
}
