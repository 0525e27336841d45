// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import BestEffortServing
import Foundation
import GGUF
import Hummingbird
import InferenceEngine
import Kernels
import Logging
import Support
import OpenAIServer
import Tokenization
import TransformerModels

extension Tern {
    /// `tern serve`: the OpenAI-compatible server with continuous batching and a web page.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve a model over an OpenAI-compatible HTTP API with a built-in web page.")

        @OptionGroup var modelOptions: ModelOptions

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
            let router = buildRouter(state: state, configuration: server)

            // Load the model while the server already answers /health with 503.
            let options = modelOptions
            var engineConfiguration = EngineConfiguration()
            engineConfiguration.threads = options.threads
            engineConfiguration.maxBatchTokens = maxBatchTokens
            engineConfiguration.maxRunningSequences = maxRunning
            engineConfiguration.maxWaitingRequests = maxWaiting
            engineConfiguration.kvMemoryBytes = parseByteSize(kvMemory)!
            engineConfiguration.contextSize = options.contextSize
            engineConfiguration.prefixCaching = !noPrefixCache
            engineConfiguration.prefetchAdapters = !noAdapterPrefetch
            let engineConfig = engineConfiguration
            let model = options.model
            let loras = lora.map { l -> (String, String) in
                let parts = l.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), String(parts[1]))
            }
            let adapterDirs = self.adapterDirs + self.loraDirs
            let loraDirs = self.loraDirs
            let adapterCacheBytes = parseByteSize(adapterCache)!
            let policy: any SchedulingPolicy = switch scheduler {
            case "slora": SLoRAScheduler(order: .fcfs, slo: slo, clusterAdapters: clusterAdapters)
            case "lcfs": SLoRAScheduler(order: .lcfs, slo: slo, clusterAdapters: clusterAdapters)
            case "abort": SLoRAScheduler(order: .abort, slo: slo, clusterAdapters: clusterAdapters)
            default: FCFSScheduler()
            }
            // The router's files are read before the model loads, so a bad one stops the server at once.
            var routing: (policy: RouterPolicyFile?, fixed: String?, settings: SimulationSettings?, table: TierTable)? = nil
            if let routerPolicy {
                do {
                    if routerPolicy.hasPrefix("static:") || ["greedy-deadline", "random"].contains(routerPolicy) {
                        // Deadlines and the rest as `tern best-effort` derives them from the same table.
                        var options = try BestEffortOptions.parse([])
                        options.tierFile = routerTiers
                        let setup = try options.setup()
                        routing = (nil, routerPolicy, setup.settings, setup.table)
                    } else if !FileManager.default.fileExists(atPath: routerPolicy) {
                        throw CLIError("--router \(routerPolicy): no such policy file; give a policy from `tern best-effort train`, static:TIER, greedy-deadline or random (the oracle needs hindsight and runs only in the simulator)")
                    } else {
                        routing = (try RouterPolicyFile(contentsOf: routerPolicy), nil, nil, try TierTable(contentsOf: routerTiers))
                    }
                } catch let error as CLIError {
                    throw error
                } catch {
                    throw CLIError("--router \(routerPolicy) / --router-tiers \(routerTiers): \(error)")
                }
            }
            let routingFiles = routing
            let loaded = Task.detached { () throws -> EngineClient in
                let path = try ModelStore().resolve(model, progress: false)
                let loadedModel = try loadModel(path: path, ModelLoadOptions(
                    threads: engineConfig.threads, maxBatchTokens: engineConfig.maxBatchTokens, maxContext: engineConfig.contextSize))
                let llama = loadedModel.model
                let name = ModelRegistry.entry(named: model)?.name ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                let aliases: Set<String> = [URL(fileURLWithPath: path).lastPathComponent, "tern"]
                // LoRA adapters: preloaded ones now (a bad file stops the server with the reason).
                var store: AdapterStore? = nil
                if !loras.isEmpty || !adapterDirs.isEmpty {
                    let s = AdapterStore(hyperparameters: llama.hyperparameters, architecture: llama.architecture,
                                         allowedDirectories: adapterDirs, reservedNames: aliases.union([name]), hostBudgetBytes: adapterCacheBytes)
                    for d in loraDirs {
                        do {
                            let n = try s.registerDirectory(d)
                            logger.info("registered adapters on disk", metadata: ["directory": "\(d)", "adapters": "\(n)"])
                        } catch {
                            throw CLIError("--lora-dir \(d): \(error)")
                        }
                    }
                    for (adapterName, adapterPath) in loras {
                        do {
                            try s.loadTrusted(name: adapterName, path: adapterPath)
                        } catch {
                            throw CLIError("--lora \(adapterName)=\(adapterPath): \(error)")
                        }
                    }
                    store = s
                }
                var liveRouter: LiveRouter? = nil
                if let routingFiles {
                    do {
                        let layers = llama.hyperparameters.layers
                        if let policy = routingFiles.policy {
                            liveRouter = try LiveRouter(policy: policy, table: routingFiles.table.tiers.map(\.spec), modelLayers: layers)
                        } else if let fixed = routingFiles.fixed, fixed.hasPrefix("static:") {
                            liveRouter = try LiveRouter(staticTier: String(fixed.dropFirst("static:".count)), table: routingFiles.table.tiers.map(\.spec),
                                                        settings: routingFiles.settings!, modelLayers: layers)
                        } else {
                            liveRouter = try LiveRouter(baseline: routingFiles.fixed!, table: routingFiles.table, settings: routingFiles.settings!,
                                                        modelLayers: layers)
                        }
                    } catch {
                        throw CLIError("--router: \(error)")
                    }
                    logger.info("routing requests to tiers", metadata: ["tiers": "\(liveRouter!.tiers.map(\.name).joined(separator: ","))"])
                }
                let engine = EngineClient(model: llama, tokenizer: loadedModel.tokenizer, configuration: engineConfig, policy: policy, adapters: store)
                engine.start()
                state.service = ChatService(engine: engine, modelName: name, aliases: aliases,
                                            template: loadedModel.chatTemplate, router: liveRouter)
                state.ready.store(true, ordering: .relaxed)
                let pages = engine.kvPages
                logger.info("model ready", metadata: ["model": "\(name)", "adapters": "\(store?.names.count ?? 0)", "kv_pages": "\(pages.pages)", "page_size": "\(pages.pageSize)",
                                                      "context": "\(engine.contextSize)", "threads": "\(engineConfig.threads)"])
                return engine
            }
            let app = Application(
                router: router,
                configuration: .init(address: .hostname(host, port: port), serverName: "tern"),
                onServerRunning: { channel in
                    let actual = channel.localAddress?.port ?? port
                    logger.info("listening on http://\(host):\(actual)")
                    FileHandleStderr.write("tern: listening on http://\(host):\(actual)\n")
                },
                logger: logger)
            do {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await app.runService() }
                    group.addTask {
                        do {
                            _ = try await loaded.value
                        } catch {
                            FileHandleStderr.write("error: \(error)\n")
                            throw error
                        }
                    }
                    try await group.next()
                    try await group.next()
                }
            } catch {
                if let engine = try? await loaded.value { engine.shutdown() }
                throw error
            }
            if let engine = try? await loaded.value { engine.shutdown() }
        }
    }
}
