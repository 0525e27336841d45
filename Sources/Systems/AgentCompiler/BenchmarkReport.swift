// SPDX-License-Identifier: Apache-2.0

public import Benchmarks
import Foundation
import Support

extension CompilerBenchmark {
    /// Paper numbers (Kim et al. 2024, GPT-3.5 for HotpotQA/Movie, GPT-4 for ParallelQA).
    public static let paperLatency: [String: Double] = ["hotpotqa": 1.80, "movie": 3.74, "parallelqa": 2.15]
    public static let paperTokens: [String: Double] = ["hotpotqa": 3.37, "movie": 6.73]

    /// The reproduction report of a run: LLMCompiler against ReAct and parallel function calling per
    /// question set and mode, every cell's aggregates and every question's outcome.
    public static func report(cells: [String: Cell], samples: [Sample], settings: Settings, quick: Bool, threads: Int,
                              prefixCaching: Bool, prefixCacheClearedPerSample: Bool) -> BenchReport {
        var claims: [Claim] = []
        for mode in settings.modes {
            for set in settings.sets {
                guard let c = cells["\(set)/\(mode)/llmcompiler"] ?? cells["\(set)/\(mode)/llmcompiler-nostream"] else { continue }
                let label = mode == "oracle" ? "gold outputs forced through SmolLM2" : "SmolLM2 planning (constrained)"
                let setting = "\(set), \(mode)"
                if let r = cells["\(set)/\(mode)/react"] {
                    claims.append(Claim(id: "latency_speedup_vs_react_\(set)_\(mode)", setting: setting,
                                        description: "\(set): mean wall time ReAct / LLMCompiler (\(label))", unit: "x",
                                        paper: paperLatency[set].map(PaperValue.value), ours: r.latencyMean / c.latencyMean,
                                        better: .higher, baseline: "ReAct, same engine/tools/latency"))
                    claims.append(Claim(id: "token_ratio_vs_react_\(set)_\(mode)", setting: setting,
                                        description: "\(set): mean prompt+completion tokens ReAct / LLMCompiler (\(label))", unit: "x",
                                        paper: paperTokens[set].map(PaperValue.value), ours: r.tokensMean / max(c.tokensMean, 1),
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
                       "prefix_caching": .bool(prefixCaching),
                       "prefix_cache_cleared_per_sample": .bool(prefixCacheClearedPerSample), "threads": JSONValue(threads)],
            claims: claims, results: ["cells": .object(cellJSON), "questions": .array(perQuestion)])
    }

    /// Latency, LLM time, tokens, calls and accuracy per set, mode and method.
    public static func table(cells: [String: Cell], settings: Settings) -> String {
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
