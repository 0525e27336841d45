// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import BestEffortServing
import BestEffortTraining
import Foundation
import GGUF
import Hummingbird
import InferenceEngine
import Kernels
import Logging
import Metrics
import MultiLoRA
import Support
import OpenAIServer
import Tokenization
import TransformerModels

extension Tern {
    /// `tern serve`: the OpenAI-compatible server with continuous batching and a web page.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a model over an OpenAI-compatible HTTP API with a built-in web page.")

        @OptionGroup var modelOptions: ModelOptions<StandardModelDefaults>

        @Option(help: "Address to bind.")
        var host = "127.0.0.1"

        @Option(help: "Port to listen on (0 picks a free port).")
        var port = 8080

        @Option(name: .customLong("max-batch-tokens"), help: "Token budget per engine step (prefill chunks + decodes).")
        var maxBatchTokens = 512

        @Option(name: .customLong("max-running"), help: "Most sequences computed at once.")
        var maxRunning = 64

        @Option(name: .customLong("max-waiting"), help: "Most queued requests before answering 503.")
        var maxWaiting = 256

        @Option(name: .customLong("kv-memory"), help: "KV cache memory, e.g. 256M or 1G.")
        var kvMemory = "256M"

        @Option(name: .customLong("api-key"), help: "Require this Bearer key on /v1/* requests.")
        var apiKey: String?

        @Flag(name: .customLong("no-prefix-cache"), help: "Disable prefix caching.")
        var noPrefixCache = false

        @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical.")
        var logLevel = "info"

        @Option(name: .customLong("lora"), help: "Preload a LoRA adapter (GGUF) served as model id NAME: NAME=PATH. Repeatable.")
        var lora: [String] = []

        @Option(help: "Scheduler: fcfs (vLLM-style, preempts when memory runs out), or S-LoRA's admission-controlled slora, lcfs, abort.")
        var scheduler = "fcfs"

        @Option(help: "Time-to-first-token objective in seconds for --scheduler abort.")
        var slo: Double = 6

        @Option(name: .customLong("cluster-adapters"), help: "S-LoRA cluster scheduling: once this many adapters run, prefer their requests.")
        var clusterAdapters: Int?

        @Flag(name: .customLong("no-adapter-prefetch"), help: "Do not load queued requests' adapters ahead of admission.")
        var noAdapterPrefetch = false

        @Option(name: .customLong("lora-dir"),
                help: "Register every adapter in this directory (*.gguf files and PEFT subdirectories, named by file) on disk: read into host memory when first requested. Repeatable; implies --adapter-dir.")
        var loraDirs: [String] = []

        @Option(name: .customLong("adapter-cache"), help: "Host memory for adapters registered with --lora-dir, e.g. 512M (least recently used ones leave memory).")
        var adapterCache = "1G"

        @Option(name: .customLong("adapter-dir"),
                help: "A directory POST /v1/load_lora_adapter may load adapters from. Repeatable; none: run-time loading is refused.")
        var adapterDirs: [String] = []

        @Option(name: .customLong("router"), help: "Route each request to a quality tier: a policy file from `tern best-effort train` (learned best-effort serving), static:TIER to serve every request with one tier (the paper's static baseline, live), or the live baselines greedy-deadline and random.")
        var routerPolicy: String?

        @Option(name: .customLong("router-tiers"), help: "Tier table from `tern profile` defining the policy's tiers (with --router).")
        var routerTiers = bestEffortTierFile

        func validate() throws {
            guard parseByteSize(kvMemory) != nil else { throw ValidationError("--kv-memory: cannot read '\(kvMemory)' (try 256M or 1G)") }
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
            guard maxBatchTokens >= 1, maxRunning >= 1, maxWaiting >= 0 else { throw ValidationError("batch limits must be positive") }
            guard ["fcfs", "slora", "lcfs", "abort"].contains(scheduler) else {
                throw ValidationError("--scheduler must be fcfs, slora, lcfs or abort")
            }
            guard slo > 0 else { throw ValidationError("--slo must be positive") }
            if let k = clusterAdapters, k < 1 { throw ValidationError("--cluster-adapters must be >= 1") }
            if clusterAdapters != nil && scheduler == "fcfs" { throw ValidationError("--cluster-adapters needs --scheduler slora, lcfs or abort") }
            for l in lora {
                let parts = l.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw ValidationError("--lora expects NAME=PATH, got '\(l)'") }
            }
            guard parseByteSize(adapterCache) != nil else { throw ValidationError("--adapter-cache: cannot read '\(adapterCache)' (try 512M or 2G)") }
            for d in adapterDirs + loraDirs {
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: d, isDirectory: &isDir), isDir.boolValue else {
                    throw ValidationError("--adapter-dir: '\(d)' is not a directory")
                }
            }
        }

        func run() async throws {
            let level = Logger.Level(rawValue: logLevel) ?? .info
            LoggingSystem.bootstrap { label in
                var h = StreamLogHandler.standardError(label: label)
                h.logLevel = level
                return h
            }
            let logger = Logger(label: "tern.server")
            var server = ServerConfiguration()
            server.host = host
            server.port = port
            server.apiKey = apiKey
            let state = ServerState()
            MetricsSystem.bootstrap(state.metricsFactory)
            let router = buildRouter(state: state, configuration: server)
            AdapterRoutes.register(on: router, state: state)

            var engine = EngineConfiguration()
            engine.threads = modelOptions.threads
            engine.maxBatchTokens = maxBatchTokens
            engine.maxRunningSequences = maxRunning
            engine.maxWaitingRequests = maxWaiting
            engine.kvMemoryBytes = parseByteSize(kvMemory)!
            engine.contextSize = modelOptions.contextSize
            engine.prefixCaching = !noPrefixCache
            engine.adapterResidency = noAdapterPrefetch ? OnDemandResidency() : SLoRAResidency()
            let policy: any SchedulingPolicy = switch scheduler {
            case "fcfs": FCFSScheduler()
            default: SLoRAScheduler(order: scheduler == "slora" ? .fcfs : SLoRAScheduler.Order(rawValue: scheduler)!, slo: slo, clusterAdapters: clusterAdapters)
            }
            // The router's files are read before the model loads, so a bad one stops the server at once.
            let routing: LiveRouterPlan?
            do { routing = try routerPolicy.map { try LiveRouterPlan(router: $0, tiers: routerTiers) } } catch { throw CLIError("--router \(error)") }
            let adapters = (lora: lora.map { l in l.split(separator: "=", maxSplits: 1).map(String.init) }.map { ($0[0], $0[1]) },
                            dirs: loraDirs, allowed: adapterDirs, cache: parseByteSize(adapterCache)!)
            let model = modelOptions.model, engineConfig = engine
            try await runServer(router: router, state: state, configuration: server, logger: logger, onListening: { port in
                logger.info("listening on http://\(host):\(port)")
                FileHandleStderr.write("tern: listening on http://\(host):\(port)\n")
            }, onReady: { service in
                let engine = service.engine, pages = engine.kvPages
                logger.info("model ready", metadata: ["model": "\(service.modelName)", "adapters": "\(engine.adapters?.names.count ?? 0)",
                                                      "kv_pages": "\(pages.pages)", "page_size": "\(pages.pageSize)",
                                                      "context": "\(engine.contextSize)", "threads": "\(engine.configuration.threads)"])
            }) {
                let path = try ModelStore().resolve(model, progress: false)
                let loaded = try loadModel(path: path, ModelLoadOptions(
                    threads: engineConfig.threads, maxBatchTokens: engineConfig.maxBatchTokens, maxContext: engineConfig.contextSize))
                let name = ModelRegistry.entry(named: model)?.name ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                let aliases: Set<String> = [URL(fileURLWithPath: path).lastPathComponent, "tern"]
                var store: AdapterStore? = nil
                if !adapters.lora.isEmpty || !adapters.dirs.isEmpty || !adapters.allowed.isEmpty {
                    do {
                        let s = try AdapterStore.serving(model: loaded.model, preload: adapters.lora, registerDirectories: adapters.dirs,
                                                         allowedDirectories: adapters.allowed, reservedNames: aliases.union([name]),
                                                         hostBudgetBytes: adapters.cache)
                        store = s.store
                        if !adapters.dirs.isEmpty {
                            logger.info("registered adapters on disk", metadata: ["directories": "\(adapters.dirs.joined(separator: ","))", "adapters": "\(s.onDisk)"])
                        }
                    } catch {
                        throw CLIError("--lora / --lora-dir: \(error)")
                    }
                }
                let liveRouter: LiveRouter?
                do { liveRouter = try routing?.makeRouter(modelLayers: loaded.model.hyperparameters.layers) } catch { throw CLIError("--router: \(error)") }
                if let liveRouter { logger.info("routing requests to tiers", metadata: ["tiers": "\(liveRouter.tiers.map(\.name).joined(separator: ","))"]) }
                let engine = EngineClient(model: loaded.model, tokenizer: loaded.tokenizer, configuration: engineConfig, policy: policy, adapters: store)
                return ChatService(engine: engine, modelName: name, aliases: aliases, template: loaded.chatTemplate, router: liveRouter)
            }
        }
    }
}
