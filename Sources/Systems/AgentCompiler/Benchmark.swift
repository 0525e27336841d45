// SPDX-License-Identifier: Apache-2.0

public import Benchmarks
import Support
import Foundation
public import OpenAIAPI

/// The reproduction benchmark: every method answers the same questions with the same model,
/// decoding, tools and injected tool latency, one question and one method at a time.
public struct CompilerBenchmark: Sendable {
    /// Benchmark settings.
    public struct Settings: Sendable {
        /// Question sets to run.
        public var sets: [String] = QuestionSets.names
        /// Questions per set.
        public var questionsPerSet = 5
        /// `oracle` (gold outputs forced through the real model) and/or `live` (the model decides).
        public var modes: [String] = ["oracle", "live"]
        /// Methods: `react`, `parallel`, `llmcompiler` (streamed plan), `llmcompiler-nostream`.
        public var methods: [String] = ["react", "parallel", "llmcompiler", "llmcompiler-nostream"]
        /// Injected latency of `search` (seconds, mean; ±20%), standing in for the paper's Wikipedia calls.
        public var searchLatency = 0.5
        /// Sentences `search` returns.
        public var sentences = 2
        /// Shared agent options (model id, constrained decoding, limits).
        public var options: AgentOptions

        /// Settings for `model`.
        public init(model: String) {
            options = AgentOptions(model: model)
            options.maxReplans = 0  // the paper's released configurations do not replan
        }
    }

    /// One question under one method and mode.
    public struct Sample: Sendable, Codable {
        public var set: String
        public var mode: String
        public var method: String
        public var questionID: String
        public var correct: Bool
        public var result: AgentResult
    }

    /// The model.
    public let client: any ChatModelClient
    /// FOLDOC.
    public let dictionary: FoldocDictionary
    /// Settings.
    public let settings: Settings
    /// Called before every sample; the CLI clears the in-process engine's prefix cache here, so no
    /// method is served from the KV pages of another method's identical prompts (a method still
    /// reuses its own earlier calls' prefixes within a sample, as ReAct does with its growing prompt).
    public var beforeSample: @Sendable () -> Void = {}

    /// Creates the benchmark.
    public init(client: any ChatModelClient, dictionary: FoldocDictionary, settings: Settings) {
        self.client = client
        self.dictionary = dictionary
        self.settings = settings
    }

    /// The tools of `method` for one question (oracle mode forces `math`'s translation).
    public func tools(method: String, gold: GoldScript?, meter: UsageMeter) -> ToolRegistry {
        let search = FoldocSearchTool(dictionary: dictionary, sentences: settings.sentences)
        var registry = ToolRegistry([search])
        if method.hasPrefix("llmcompiler") {
            registry.register(MathTool(client: client, model: settings.options.model, constrained: settings.options.constrained,
                                       oracle: gold?.math, meter: meter))
        } else {
            registry.register(CalculatorTool())
        }
        return registry.withLatency(InjectedLatency(mean: settings.searchLatency, perTool: ["math": 0, "calc": 0]))
    }

    /// Runs one question under one method.
    public func run(_ q: BenchmarkQuestion, method: String, oracle: Bool) async throws -> AgentResult {
        let meter = UsageMeter()
        let gold = oracle ? q.gold : nil
        let tools = tools(method: method, gold: gold, meter: meter)
        var options = settings.options
        var result: AgentResult
        switch method {
        case "react":
            result = try await ReAct(client: client, tools: tools, options: options).answer(q.question, gold: gold)
        case "parallel":
            result = try await ParallelFunctionCalling(client: client, tools: tools, options: options).answer(q.question, gold: gold)
        case "llmcompiler", "llmcompiler-nostream":
            options.streaming = method == "llmcompiler"
            result = try await LLMCompiler(client: client, tools: tools, options: options).answer(q.question, gold: gold)
        default:
            throw AgentError.model("unknown method \(method)")
        }
        let t = meter.totals
        result.toolPromptTokens = t.prompt
        result.toolCompletionTokens = t.completion
        return result
    }

    /// Runs everything; `progress(done, total, sample)` after each sample. Each sample is one piece
    /// of `checkpoint`, so an interrupted run resumes at the first unfinished sample.
    public func run(_ questions: [BenchmarkQuestion], checkpoint: BenchCheckpoint = BenchCheckpoint(directory: nil, settings: [:]),
                    progress: @Sendable (Int, Int, Sample) -> Void = { _, _, _ in }) async throws -> [Sample] {
        let chosen = settings.sets.flatMap { s in questions.filter { $0.set == s }.prefix(settings.questionsPerSet) }
        let total = chosen.count * settings.modes.count * settings.methods.count
        var samples: [Sample] = []
        for mode in settings.modes {
            for (k, q) in chosen.enumerated() {
                // Rotate the method order per question so no method always runs right after another
                // on identical prompts (prefix caching would favour the second).
                let n = settings.methods.count
                for method in (0..<n).map({ settings.methods[($0 + k) % n] }) {
                    let s = try await checkpoint.piece("\(mode)/\(q.set)/\(q.id)/\(method)") { () async throws -> Sample in
                        beforeSample()
                        let r = try await run(q, method: method, oracle: mode == "oracle")
                        return Sample(set: q.set, mode: mode, method: method, questionID: q.id, correct: Scoring.isCorrect(r.answer, label: q.answer), result: r)
                    }
                    samples.append(s)
                    progress(samples.count, total, s)
                }
            }
        }
        return samples
    }

    /// Mean and sample standard deviation; (0, 0) for no values.
    public static func meanStd(_ xs: [Double]) -> (Double, Double) {
        Statistics.meanAndSpread(xs).map { ($0.mean, $0.spread) } ?? (0, 0)
    }

    /// Aggregates of one (set, mode, method) cell.
    public struct Cell: Sendable {
        public var n: Int
        public var latencyMean: Double
        public var latencyStd: Double
        public var tokensMean: Double
        public var promptTokensMean: Double
        public var completionTokensMean: Double
        public var llmSecondsMean: Double
        public var llmCallsMean: Double
        public var accuracy: Double
    }

    /// Aggregates samples by (set, mode, method).
    public static func cells(_ samples: [Sample]) -> [String: Cell] {
        var groups: [String: [Sample]] = [:]
        for s in samples { groups["\(s.set)/\(s.mode)/\(s.method)", default: []].append(s) }
        return groups.mapValues { g in
            let (lm, ls) = meanStd(g.map(\.result.wallSeconds))
            let n = Double(g.count)
            return Cell(n: g.count, latencyMean: lm, latencyStd: ls,
                        tokensMean: Double(g.reduce(0) { $0 + $1.result.totalTokens }) / n,
                        promptTokensMean: Double(g.reduce(0) { $0 + $1.result.promptTokens }) / n,
                        completionTokensMean: Double(g.reduce(0) { $0 + $1.result.completionTokens }) / n,
                        llmSecondsMean: g.reduce(0) { $0 + $1.result.llmSeconds } / n,
                        llmCallsMean: Double(g.reduce(0) { $0 + $1.result.calls.count }) / n,
                        accuracy: Double(g.filter(\.correct).count) / n)
        }
    }
}
