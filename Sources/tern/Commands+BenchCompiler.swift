// SPDX-License-Identifier: Apache-2.0

import AgentCompiler
import ArgumentParser
import Foundation

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
        @Flag(help: "A small version (1 hotpotqa question, oracle, ReAct vs LLMCompiler) for tests.") var quick = false
        @Flag(help: "Print the reproduction-report JSON.") var json = false

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
            let tty = isatty(STDERR_FILENO) != 0 && !jsonMode
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
                if tty { FileHandleStderr.write("\r[\(done)/\(total)] \(line)\u{1B}[K") } else { FileHandleStderr.write("[\(done)/\(total)] \(line)\n") }
            }
            if tty { FileHandleStderr.write("\n") }
            let cells = CompilerBenchmark.cells(samples)
            let report = makeReport(cells: cells, samples: samples, settings: settings)
            if json {
                let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
                Stdout.write(String(decoding: data, as: UTF8.self) + "\n")
            } else {
                Stdout.write(table(cells: cells, settings: settings, claims: report["claims"] as! [[String: Any]]))
            }
        }

        /// Paper numbers (Kim et al. 2024, GPT-3.5 for HotpotQA/Movie, GPT-4 for ParallelQA).
        static let paperLatency: [String: Double] = ["hotpotqa": 1.80, "movie": 3.74, "parallelqa": 2.15]
        static let paperTokens: [String: Double] = ["hotpotqa": 3.37, "movie": 6.73]

        func makeReport(cells: [String: CompilerBenchmark.Cell], samples: [CompilerBenchmark.Sample], settings: CompilerBenchmark.Settings) -> [String: Any] {
            var claims: [[String: Any]] = []
            for mode in settings.modes {
                for set in settings.sets {
                    guard let c = cells["\(set)/\(mode)/llmcompiler"] ?? cells["\(set)/\(mode)/llmcompiler-nostream"] else { continue }
                    let label = mode == "oracle" ? "gold outputs forced through SmolLM2" : "SmolLM2 planning (constrained)"
                    if let r = cells["\(set)/\(mode)/react"] {
                        claims.append(["id": "latency_speedup_vs_react_\(set)_\(mode)", "unit": "x", "paper": Self.paperLatency[set].map { $0 as Any } ?? NSNull(),
                                       "ours": r.latencyMean / c.latencyMean, "baseline": "ReAct, same engine/tools/latency",
                                       "description": "\(set): mean wall time ReAct / LLMCompiler (\(label))"])
                        claims.append(["id": "token_ratio_vs_react_\(set)_\(mode)", "unit": "x", "paper": Self.paperTokens[set].map { $0 as Any } ?? NSNull(),
                                       "ours": r.tokensMean / max(c.tokensMean, 1), "baseline": "ReAct, same engine/tools",
                                       "description": "\(set): mean prompt+completion tokens ReAct / LLMCompiler (\(label))"])
                    }
                    if let p = cells["\(set)/\(mode)/parallel"] {
                        claims.append(["id": "latency_speedup_vs_parallel_\(set)_\(mode)", "unit": "x", "paper": set == "movie" ? 1.35 as Any : NSNull(),
                                       "ours": p.latencyMean / c.latencyMean, "baseline": "JSON parallel function calling, same engine/tools",
                                       "description": "\(set): mean wall time parallel function calling / LLMCompiler (\(label)); paper: up to 1.35x"])
                    }
                    if let s = cells["\(set)/\(mode)/llmcompiler"], let n = cells["\(set)/\(mode)/llmcompiler-nostream"] {
                        claims.append(["id": "streaming_speedup_\(set)_\(mode)", "unit": "x", "paper": NSNull(),
                                       "ours": n.latencyMean / s.latencyMean, "baseline": "LLMCompiler without plan streaming",
                                       "description": "\(set): wall time without / with the streamed planner (\(label))"])
                    }
                    claims.append(["id": "accuracy_llmcompiler_\(set)_\(mode)", "unit": "%", "paper": NSNull(), "ours": c.accuracy * 100,
                                   "baseline": "exact answers of the generated set",
                                   "description": "\(set): LLMCompiler accuracy (\(label)); ReAct \(Int(((cells["\(set)/\(mode)/react"]?.accuracy ?? 0) * 100).rounded()))%"])
                }
            }
            var cellJSON: [String: Any] = [:]
            for (k, c) in cells {
                cellJSON[k] = ["n": c.n, "latency_mean_s": c.latencyMean, "latency_std_s": c.latencyStd, "tokens_mean": c.tokensMean,
                               "prompt_tokens_mean": c.promptTokensMean, "completion_tokens_mean": c.completionTokensMean,
                               "llm_seconds_mean": c.llmSecondsMean, "llm_calls_mean": c.llmCallsMean, "accuracy": c.accuracy]
            }
            let perQuestion = samples.map { s -> [String: Any] in
                ["set": s.set, "mode": s.mode, "method": s.method, "id": s.questionID, "correct": s.correct, "answer": s.result.answer,
                 "wall_s": s.result.wallSeconds, "llm_s": s.result.llmSeconds, "tokens": s.result.totalTokens, "llm_calls": s.result.calls.count,
                 "tool_calls": s.result.toolCalls, "math_tokens": s.result.toolPromptTokens + s.result.toolCompletionTokens,
                 "plan_issues": s.result.issues.count]
            }
            return [
                "system": "compiler", "machine": trainMachineDescription(),
                "settings": ["model": settings.options.model, "sets": settings.sets, "questions_per_set": settings.questionsPerSet,
                             "modes": settings.modes, "methods": settings.methods, "search_latency_s": settings.searchLatency,
                             "search_sentences": settings.sentences, "constrained": settings.options.constrained,
                             "max_replans": settings.options.maxReplans, "temperature": 0, "quick": quick, "prefix_caching": modelOptions.baseURL == nil && !modelOptions.noPrefixCache,
                             "prefix_cache_cleared_per_sample": modelOptions.baseURL == nil, "threads": modelOptions.threads],
                "claims": claims, "results": ["cells": cellJSON, "questions": perQuestion],
            ]
        }

        func table(cells: [String: CompilerBenchmark.Cell], settings: CompilerBenchmark.Settings, claims: [[String: Any]]) -> String {
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
            s += "\nclaim                                         paper    ours\n"
            for c in claims {
                let paper = (c["paper"] as? Double).map { String(format: "%6.2f", $0) } ?? "     -"
                s += String(format: "%-44@ %@ %7.2f\n", c["id"] as! String, paper, c["ours"] as! Double)
            }
            return s
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
