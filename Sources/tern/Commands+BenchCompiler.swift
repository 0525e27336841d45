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
            let report = makeReport(cells: cells, samples: samples, settings: settings)
            try output.emit(report, details: table(cells: cells, settings: settings))
        }

        /// Paper numbers (Kim et al. 2024, GPT-3.5 for HotpotQA/Movie, GPT-4 for ParallelQA).
        static let paperLatency: [String: Double] = ["hotpotqa": 1.80, "movie": 3.74, "parallelqa": 2.15]
        static let paperTokens: [String: Double] = ["hotpotqa": 3.37, "movie": 6.73]

        func makeReport(cells: [String: CompilerBenchmark.Cell], samples: [CompilerBenchmark.Sample], settings: CompilerBenchmark.Settings) -> BenchReport {
            var claims: [Claim] = []
            for mode in settings.modes {
                for set in settings.sets {
                    guard let c = cells["\(set)/\(mode)/llmcompiler"] ?? cells["\(set)/\(mode)/llmcompiler-nostream"] else { continue }
                    let label = mode == "oracle" ? "gold outputs forced through SmolLM2" : "SmolLM2 planning (constrained)"
                    let setting = "\(set), \(mode)"
                    if let r = cells["\(set)/\(mode)/react"] {
                        claims.append(Claim(id: "latency_speedup_vs_react_\(set)_\(mode)", setting: setting,
                                            description: "\(set): mean wall time ReAct / LLMCompiler (\(label))", unit: "x",
                                            paper: Self.paperLatency[set].map(PaperValue.value), ours: r.latencyMean / c.latencyMean,
                                            better: .higher, baseline: "ReAct, same engine/tools/latency"))
                        claims.append(Claim(id: "token_ratio_vs_react_\(set)_\(mode)", setting: setting,
                                            description: "\(set): mean prompt+completion tokens ReAct / LLMCompiler (\(label))", unit: "x",
                                            paper: Self.paperTokens[set].map(PaperValue.value), ours: r.tokensMean / max(c.tokensMean, 1),
                                            better: .higher, baseline: "ReAct, same engine/tools"))
                    }
                    if let p = cells["\(set)/\(mode)/parallel"] {
                        claims.append(Claim(id: "latency_speedup_vs_parallel_\(set)_\(mode)", setting: setting,
                                            description: "\(set): mean wall time parallel function calling / LLMCompiler (\(label)); paper: up to 1.35x",
                                            unit: "x", paper: set == "movie" ? .value(1.35) : nil, ours: p.latencyMean / c.latencyMean,
                                            better: .higher, baseline: "JSON parallel function calling, same engine/tools"))
                    }
                    if let s = cells["\(set)/\(mode)/llmcompiler"], let n = cells["\(set)/\(mode)/llmcompiler-nostream"] {
                        claims.append(Claim(id: "streaming_speedup_\(set)_\(mode)", setting: setting,
                                            description: "\(set): wall time without / with the streamed planner (\(label))", unit: "x",
                                            paper: nil, ours: n.latencyMean / s.latencyMean, better: .higher,
                                            baseline: "LLMCompiler without plan streaming"))
                    }
                    let react = Int(((cells["\(set)/\(mode)/react"]?.accuracy ?? 0) * 100).rounded())
                    claims.append(Claim(id: "accuracy_llmcompiler_\(set)_\(mode)", setting: setting,
                                        description: "\(set): LLMCompiler accuracy (\(label)); ReAct \(react)%", unit: "%", paper: nil,
                                        ours: c.accuracy * 100, better: .higher, baseline: "exact answers of the generated set"))
                }
            }
            var cellJSON: [String: JSONValue] = [:]
            for (k, c) in cells {
                cellJSON[k] = ["n": JSONValue(c.n), "latency_mean_s": JSONValue(c.latencyMean), "latency_std_s": JSONValue(c.latencyStd),
                               "tokens_mean": JSONValue(c.tokensMean), "prompt_tokens_mean": JSONValue(c.promptTokensMean),
                               "completion_tokens_mean": JSONValue(c.completionTokensMean), "llm_seconds_mean": JSONValue(c.llmSecondsMean),
                               "llm_calls_mean": JSONValue(c.llmCallsMean), "accuracy": JSONValue(c.accuracy)]
            }
            let perQuestion: [JSONValue] = samples.map { s in
                ["set": JSONValue(s.set), "mode": JSONValue(s.mode), "method": JSONValue(s.method), "id": JSONValue(s.questionID),
                 "correct": .bool(s.correct), "answer": JSONValue(s.result.answer), "wall_s": JSONValue(s.result.wallSeconds),
                 "llm_s": JSONValue(s.result.llmSeconds), "tokens": JSONValue(s.result.totalTokens), "llm_calls": JSONValue(s.result.calls.count),
                 "tool_calls": JSONValue(s.result.toolCalls), "math_tokens": JSONValue(s.result.toolPromptTokens + s.result.toolCompletionTokens),
                 "plan_issues": JSONValue(s.result.issues.count)]
            }
            return BenchReport(
                system: "compiler",
                settings: ["model": JSONValue(settings.options.model), "sets": .array(settings.sets.map { JSONValue($0) }),
                           "questions_per_set": JSONValue(settings.questionsPerSet), "modes": .array(settings.modes.map { JSONValue($0) }),
                           "methods": .array(settings.methods.map { JSONValue($0) }), "search_latency_s": JSONValue(settings.searchLatency),
                           "search_sentences": JSONValue(settings.sentences), "constrained": .bool(settings.options.constrained),
                           "max_replans": JSONValue(settings.options.maxReplans), "temperature": 0, "quick": .bool(quick),
                           "prefix_caching": .bool(modelOptions.baseURL == nil && !modelOptions.noPrefixCache),
                           "prefix_cache_cleared_per_sample": .bool(modelOptions.baseURL == nil), "threads": JSONValue(modelOptions.threads)],
                claims: claims, results: ["cells": .object(cellJSON), "questions": .array(perQuestion)])
        }

        func table(cells: [String: CompilerBenchmark.Cell], settings: CompilerBenchmark.Settings) -> String {
            var s = String(format: "%-11@ %-7@ %-21@ %9@ %9@ %8@ %6@ %6@\n", "set", "mode", "method", "latency s", "LLM s", "tokens", "calls", "acc %")
            for mode in settings.modes {
                for set in settings.sets {
                    for m in settings.methods {
                        guard let c = cells["\(set)/\(mode)/\(m)"] else { continue }
                        s += String(format: "%-11@ %-7@ %-21@ %9.2f %9.2f %8.0f %6.1f %6.0f\n", set, mode, m, c.latencyMean, c.llmSecondsMean,
                                    c.tokensMean, c.llmCallsMean, c.accuracy * 100)
                    }
                }
            }
            return s
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
