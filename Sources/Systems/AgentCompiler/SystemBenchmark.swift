// SPDX-License-Identifier: Apache-2.0

public import Benchmarks
import Foundation
import Support

/// LLMCompiler's reproduction: LLMCompiler against ReAct and parallel function calling on the
/// same questions, model, decoding, tools and injected tool latency. Each sample (question x
/// method x mode) is one resumable piece.
public enum CompilerSystemBenchmark: SystemBenchmark {
    /// Every knob of a run.
    public struct Settings: Codable, Sendable, Equatable, ChatModelSettings {
        /// The chat model (``ChatModelSettings``).
        public var model = "smollm2-135m", baseURL = "", threads = 2, ctxSize = 4096, prefixCache = true
        public var foldoc = FoldocDictionary.defaultDirectory
        /// Questions per set.
        public var questions = 5
        public var sets = QuestionSets.names
        public var modes = ["oracle", "live"]
        public var methods = ["react", "parallel", "llmcompiler", "llmcompiler-nostream"]
        /// Injected seconds per search call (±20 %).
        public var searchLatency = 0.5
        public var constrained = true
        /// Question file ("" = generate from FOLDOC with `question_seed`).
        public var questionsFile = ""
        public var questionSeed: UInt64 = 2024
        /// Creates the defaults of a full run.
        public init() {}
    }

    public static let name = "compiler"
    public static let title = "LLMCompiler"
    public static let abstract = "LLMCompiler vs ReAct vs parallel function calling: latency, tokens, accuracy (oracle and live planner)"
    public static let settingsHelp = ChatModelSpec.settingsHelp.merging(BenchSettings.help("""
        prefix_cache    KV reuse of identical prompt prefixes (in process; cleared before every sample)
        foldoc          directory holding foldoc.dict.dz and foldoc.index
        questions       questions per set
        sets            question sets: hotpotqa, movie, parallelqa
        modes           oracle (gold outputs forced through the model), live
        methods         react, parallel, llmcompiler, llmcompiler-nostream
        search_latency  injected seconds per search call (±20%)
        constrained     constrained decoding in live mode (false: free decoding)
        questions_file  question file (empty = generate from FOLDOC with question_seed; bench/compiler/questions.json is the shipped set)
        question_seed   seed of the generated question sets
        """)) { _, own in own }

    public static func settings(quick: Bool) -> Settings {
        var s = Settings()
        if quick { s.sets = ["hotpotqa"]; s.questions = 1; s.modes = ["oracle"]; s.methods = ["react", "llmcompiler"]; s.searchLatency = 0.3 }
        return s
    }

    /// Runs every sample and writes the questions used and one JSON line per sample to the artifacts
    /// folder (`questions.json`, `samples.jsonl`).
    public static func run(_ s: Settings, context: BenchContext) async throws -> BenchOutcome {
        let dictionary = try FoldocDictionary(directory: s.foldoc)
        let all = s.questionsFile.isEmpty ? QuestionSets.generate(dictionary, count: max(s.questions, 1), seed: s.questionSeed)
            : try QuestionSets.load(path: s.questionsFile)
        let chat = try await context.openChatModel(s.chatModelSpec)
        defer { chat.shutdown() }
        var settings = CompilerBenchmark.Settings(model: chat.model)
        settings.sets = s.sets
        settings.questionsPerSet = s.questions
        settings.modes = s.modes
        settings.methods = s.methods
        settings.searchLatency = s.searchLatency
        settings.options.constrained = s.constrained
        var bench = CompilerBenchmark(client: chat.client, dictionary: dictionary, settings: settings)
        // Every sample starts from an empty prefix cache, whatever ran before it.
        if let clear = chat.clearPrefixCache { bench.beforeSample = clear }
        let progress = ProgressReporter(enabled: context.showProgress, logInterval: 0)
        let samples = try await bench.run(all, checkpoint: context.checkpoint) { done, total, s in
            progress.update(done: done, total: total, String(format: "%@ %@ %@ %@: %.2f s, %d tokens, %@", s.set, s.mode, s.method, s.questionID,
                                                             s.result.wallSeconds, s.result.totalTokens, s.correct ? "correct" : "wrong (\(s.result.answer))"))
        }
        progress.finish()
        if let artifacts = context.artifacts {
            try FileManager.default.createDirectory(atPath: artifacts, withIntermediateDirectories: true)
            try QuestionSets.encode(all).write(to: URL(fileURLWithPath: artifacts + "/questions.json"))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            var lines = ""
            for sample in samples {
                let line: JSONValue = [
                    "set": JSONValue(sample.set), "mode": JSONValue(sample.mode), "method": JSONValue(sample.method), "id": JSONValue(sample.questionID),
                    "correct": JSONValue(sample.correct), "answer": JSONValue(sample.result.answer), "wall_s": JSONValue(sample.result.wallSeconds),
                    "llm_s": JSONValue(sample.result.llmSeconds), "tokens": JSONValue(sample.result.totalTokens),
                    "llm_calls": JSONValue(sample.result.calls.count), "plans": .array(sample.result.plans.map { JSONValue($0) }),
                ]
                lines += String(decoding: try encoder.encode(line), as: UTF8.self) + "\n"
            }
            try lines.write(toFile: artifacts + "/samples.jsonl", atomically: true, encoding: .utf8)
        }
        let cells = CompilerBenchmark.cells(samples)
        let inProcess = s.baseURL.isEmpty
        let report = CompilerBenchmark.report(cells: cells, samples: samples, settings: settings, quick: context.quick, threads: s.threads,
                                              prefixCaching: inProcess && s.prefixCache, prefixCacheClearedPerSample: inProcess)
        return BenchOutcome(report: report, details: CompilerBenchmark.table(cells: cells, settings: settings))
    }
}
