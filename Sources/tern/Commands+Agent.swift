// SPDX-License-Identifier: Apache-2.0

import AgentCompiler
import ArgumentParser
import Benchmarks
import Foundation
import OpenAIClient
import InferenceEngine
import OpenAIAPI
import OpenAIServer

/// Options shared by `tern agent` and `tern arena`: where the model is (in process, or a server).
struct AgentModelOptions: ParsableArguments {
    @OptionGroup var local: ModelOptions<AgentModelDefaults>

    @Option(name: .customLong("base-url"), help: "An OpenAI-compatible server (e.g. http://127.0.0.1:8080/v1) instead of the in-process model; --model is then the model id there.")
    var baseURL: String?

    @Option(name: .customLong("api-key"), help: "Bearer token for --base-url.")
    var apiKey: String?

    @Flag(name: .customLong("no-prefix-cache"), help: "Turn off KV reuse of identical prompt prefixes (in-process model).")
    var noPrefixCache = false

    @Option(help: "Directory holding foldoc.dict.dz and foldoc.index.")
    var foldoc: String = FoldocDictionary.defaultDirectory

    /// The registered model, GGUF path or server model id.
    var model: String { local.model }

    /// The chat model these options name: the in-process engine, or the server at `--base-url`.
    func open(progress: Bool) async throws -> BenchChatModel {
        try await openChatModel(ChatModelSpec(model: local.model, baseURL: baseURL ?? "", threads: local.threads, contextSize: local.contextSize,
                                              prefixCache: !noPrefixCache), apiKey: apiKey, progress: progress)
    }
}

/// Opens a chat model: an OpenAI-compatible server when `spec.baseURL` is set, else the engine
/// in process over the registered model or GGUF path (its id is the file's name).
func openChatModel(_ spec: ChatModelSpec, apiKey: String?, progress: Bool) async throws -> BenchChatModel {
    if !spec.baseURL.isEmpty {
        guard spec.baseURL.hasPrefix("http://") || spec.baseURL.hasPrefix("https://") else {
            throw CLIError("--base-url must start with http:// or https:// (e.g. http://127.0.0.1:8080/v1)")
        }
        return BenchChatModel(client: OpenAIHTTPClient(baseURL: spec.baseURL, apiKey: apiKey), model: spec.model)
    }
    var options = ModelOptions<AgentModelDefaults>()
    options.model = spec.model
    options.threads = spec.threads
    options.contextSize = spec.contextSize
    let loaded = try options.load(progress: progress)
    var c = EngineConfiguration()
    c.threads = spec.threads
    c.contextSize = spec.contextSize
    c.prefixCaching = spec.prefixCache
    let engine = EngineClient(model: loaded.model, tokenizer: loaded.tokenizer, configuration: c)
    engine.start()
    let name = URL(fileURLWithPath: loaded.path ?? "model").deletingPathExtension().lastPathComponent
    return BenchChatModel(client: ChatService(engine: engine, modelName: name, template: loaded.chatTemplate), model: name,
                          clearPrefixCache: { engine.clearPrefixCache() }, shutdown: { engine.shutdown() })
}

extension Tern {
    /// `tern agent "question"`: answers one question with LLMCompiler (or a baseline) and shows the
    /// plan DAG and the timeline of tasks running in parallel.
    struct Agent: AsyncParsableCommand, ReportsJSON {
        static let configuration = CommandConfiguration(
            abstract: "Answer a question with LLMCompiler (planner + Task Fetching Unit + joiner) or a baseline.",
            discussion: """
                Tools: search (FOLDOC computing encyclopedia), math (model-translated arithmetic), calc, and any \
                external tools from --tools. Example:
                  tern agent "Which appeared first, Python or Perl?"
                  tern agent --planner react "Which appeared first, Python or Perl?"
                  tern agent --plan-file plan.txt "..."     (replay a given plan: orchestration only)
                """)

        @Argument(help: "The question.") var question: String
        @OptionGroup var modelOptions: AgentModelOptions
        @Option(help: "llmcompiler, react or parallel.") var planner = "llmcompiler"
        @Option(name: .customLong("max-replans"), help: "Extra planning rounds the joiner may ask for.") var maxReplans = 1
        @Flag(name: .customLong("no-stream"), help: "Parse the whole plan before executing it.") var noStream = false
        @Flag(name: .customLong("no-constrained"), help: "Free decoding (for models that follow the formats unaided).") var noConstrained = false
        @Option(name: .customLong("search-latency"), help: "Injected seconds per search call (benchmarks use 0.5).") var searchLatency = 0.0
        @Option(help: "Sentences returned by search.") var sentences = 3
        @Option(help: "A JSON file of external tools (name, description, parameters schema, command).") var tools: String?
        @Option(name: .customLong("plan-file"), help: "Replay this plan (forced decoding) instead of letting the model plan.") var planFile: String?
        @OptionGroup var format: JSONOption

        func validate() throws {
            guard ["llmcompiler", "react", "parallel"].contains(planner) else { throw ValidationError("--planner must be llmcompiler, react or parallel") }
            guard maxReplans >= 0, searchLatency >= 0, sentences >= 1 else { throw ValidationError("--max-replans, --search-latency and --sentences must be non-negative") }
        }

        func run() async throws {
            let dictionary = try FoldocDictionary(directory: modelOptions.foldoc)
            let chat = try await modelOptions.open(progress: !json)
            defer { chat.shutdown() }
            let client = chat.client, model = chat.model
            var registry = ToolRegistry([FoldocSearchTool(dictionary: dictionary, sentences: sentences)])
            registry.register(planner == "llmcompiler" ? MathTool(client: client, model: model, constrained: !noConstrained) as any AgentCompiler.Tool : CalculatorTool())
            if let tools { for t in try ExternalTool.load(path: tools) { registry.register(t) } }
            registry = registry.withLatency(InjectedLatency(mean: searchLatency, perTool: ["math": 0, "calc": 0]))
            var options = AgentOptions(model: model)
            options.constrained = !noConstrained
            options.maxReplans = maxReplans
            options.streaming = !noStream
            var gold: GoldScript?
            if let planFile {
                let plan = try String(contentsOfFile: planFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                gold = GoldScript(plan: plan.hasSuffix(StreamingPlanParser.endOfPlan) ? plan : plan + StreamingPlanParser.endOfPlan,
                                  joiner: "", react: [], parallel: [])
            }
            let live = !json
            let result: AgentResult
            switch planner {
            case "react": result = try await ReAct(client: client, tools: registry, options: options).answer(question)
            case "parallel": result = try await ParallelFunctionCalling(client: client, tools: registry, options: options).answer(question)
            default:
                let agent = LLMCompiler(client: client, tools: registry, options: options, onEvent: { e in
                    guard live else { return }
                    switch e {
                    case .arrived(let t, let at): FileHandleStderr.write(String(format: "[%6.2fs] planned  %@\n", at, t.line))
                    case .started(let t, _, let at): if !t.isJoin { FileHandleStderr.write(String(format: "[%6.2fs] start    %d %@\n", at, t.index, t.name)) }
                    case .finished(let r): if !r.task.isJoin { FileHandleStderr.write(String(format: "[%6.2fs] done     %d %@\n", r.end, r.task.index, r.task.name)) }
                    }
                })
                result = try await agent.answer(question, gold: gold)
            }
            if json {
                Stdout.write(try result.jsonText() + "\n")
                return
            }
            Stdout.write(result.textReport())
        }
    }
}
