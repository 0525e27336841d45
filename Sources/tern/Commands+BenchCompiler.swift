// SPDX-License-Identifier: Apache-2.0

import AgentCompiler
import ArgumentParser
import Benchmarks
import Foundation
import Support

extension Tern.Bench {
    /// `tern bench compiler`: LLMCompiler against ReAct and parallel function calling on the same
    /// model, tools, injected tool latency and generated FOLDOC questions.
    struct BenchCompiler: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "compiler",
            abstract: "LLMCompiler vs ReAct vs parallel function calling: latency, tokens, accuracy (oracle and live planner).")

        @OptionGroup var modelOptions: AgentModelOptions
        @Option(help: "Questions per set.") var questions = 5
        @Option(help: "Comma-separated sets: hotpotqa,movie,parallelqa.") var sets = "hotpotqa,movie,parallelqa"
        @Option(help: "Comma-separated modes: oracle (gold outputs forced through the model), live.") var modes = "oracle,live"
        @Option(help: "Comma-separated methods: react,parallel,llmcompiler,llmcompiler-nostream.") var methods = "react,parallel,llmcompiler,llmcompiler-nostream"
        @Option(name: .customLong("search-latency"), help: "Injected seconds per search call (±20%).") var searchLatency = 0.5
        @Option(name: .customLong("questions-file"), help: "Question file (default: generate from FOLDOC with --seed).") var questionsFile: String?
        @Option(help: "Seed of the generated question sets.") var seed: UInt64 = 2024
        @Option(name: .customLong("write-questions"), help: "Write the generated questions to this file and exit.") var writeQuestions: String?
        @Flag(name: .customLong("no-constrained"), help: "Free decoding in live mode.") var noConstrained = false
        @Option(name: .customLong("samples-file"), help: "Append one JSON line per finished sample here (partial results survive).") var samplesFile: String?
        @OptionGroup var output: BenchOutputOptions
        private var quick: Bool { output.quick }
        private var json: Bool { output.json }

        func run() async throws {
            let dictionary = try FoldocDictionary(directory: modelOptions.foldoc)
            let all: [BenchmarkQuestion]
            if let questionsFile {
                all = try QuestionSets.load(path: questionsFile)
            } else {
                all = QuestionSets.generate(dictionary, count: max(questions, 1), seed: seed)
            }
            if let writeQuestions {
                try QuestionSets.encode(all).write(to: URL(fileURLWithPath: writeQuestions))
                FileHandleStderr.write("wrote \(all.count) questions to \(writeQuestions)\n")
                return
            }
            let (client, model, shutdown, engine) = try await modelOptions.makeClientAndEngine(progress: !json)
            defer { shutdown() }
            var settings = CompilerBenchmark.Settings(model: model)
            settings.sets = quick ? ["hotpotqa"] : sets.split(separator: ",").map(String.init)
            settings.questionsPerSet = quick ? 1 : questions
            settings.modes = quick ? ["oracle"] : modes.split(separator: ",").map(String.init)
            settings.methods = quick ? ["react", "llmcompiler"] : methods.split(separator: ",").map(String.init)
            settings.searchLatency = quick ? 0.3 : searchLatency
            settings.options.constrained = !noConstrained
            var bench = CompilerBenchmark(client: client, dictionary: dictionary, settings: settings)
            // Every sample starts from an empty prefix cache, whatever ran before it.
            if let engine { bench.beforeSample = { engine.clearPrefixCache() } }
            let jsonMode = json
            let progress = ProgressReporter(enabled: !jsonMode, logInterval: 0)
            let sink = samplesFile.flatMap { path -> FileHandle? in
                FileManager.default.createFile(atPath: path, contents: nil)
                return FileHandle(forWritingAtPath: path)
            }
            nonisolated(unsafe) let samplesSink = sink
            let samples = try await bench.run(all) { done, total, s in
                if let samplesSink, let line = try? JSONSerialization.data(withJSONObject: [
                    "set": s.set, "mode": s.mode, "method": s.method, "id": s.questionID, "correct": s.correct, "answer": s.result.answer,
                    "wall_s": s.result.wallSeconds, "llm_s": s.result.llmSeconds, "tokens": s.result.totalTokens,
                    "llm_calls": s.result.calls.count, "plans": s.result.plans,
                ] as [String: Any], options: [.sortedKeys]) {
                    samplesSink.write(line + Data("\n".utf8))
                }
                let line = String(format: "%@ %@ %@ %@: %.2f s, %d tokens, %@", s.set, s.mode, s.method, s.questionID,
                                  s.result.wallSeconds, s.result.totalTokens, s.correct ? "correct" : "wrong (\(s.result.answer))")
                progress.update(done: done, total: total, line)
            }
            progress.finish()
            let cells = CompilerBenchmark.cells(samples)
            let report = CompilerBenchmark.report(
                cells: cells, samples: samples, settings: settings, quick: quick, threads: modelOptions.threads,
                prefixCaching: modelOptions.baseURL == nil && !modelOptions.noPrefixCache, prefixCacheClearedPerSample: modelOptions.baseURL == nil)
            try output.emit(report, details: CompilerBenchmark.table(cells: cells, settings: settings))
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
