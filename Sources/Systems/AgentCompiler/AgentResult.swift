// SPDX-License-Identifier: Apache-2.0

import Foundation
public import OpenAIAPI

/// One LLM call an agent made: who made it, its tokens and when it ran (seconds from the start of
/// the question).
public struct LLMCallRecord: Sendable, Equatable, Codable {
    /// `planner`, `joiner`, `react`, `parallel`.
    public var role: String
    /// Prompt tokens.
    public var promptTokens: Int
    /// Generated tokens.
    public var completionTokens: Int
    /// Start, relative to the question's start.
    public var start: Double
    /// End, relative to the question's start.
    public var end: Double
    /// What the model wrote.
    public var output: String
}

/// The outcome of one question under one method.
public struct AgentResult: Sendable, Codable {
    /// `llmcompiler`, `react` or `parallel`.
    public var method: String
    /// The question.
    public var question: String
    /// The final answer (empty if none was produced).
    public var answer: String
    /// End-to-end wall time in seconds.
    public var wallSeconds: Double = 0
    /// Every counted LLM call (the `math` tool's own calls are counted separately, as in the paper).
    public var calls: [LLMCallRecord] = []
    /// Tokens of `math`'s translation calls (not in the cost totals).
    public var toolPromptTokens = 0
    /// Generated tokens of `math`'s translation calls.
    public var toolCompletionTokens = 0
    /// Tool calls made.
    public var toolCalls = 0
    /// Seconds tools ran, summed over calls (the sequential cost).
    public var toolSeconds = 0.0
    /// LLMCompiler: each plan (one per round), as the planner wrote it.
    public var plans: [String] = []
    /// LLMCompiler: each round's execution.
    public var executions: [Execution] = []
    /// LLMCompiler: parse problems in the plans.
    public var issues: [PlanIssue] = []
    /// LLMCompiler: replanning rounds taken.
    public var replans = 0
    /// The baselines' transcripts (ReAct scratchpad, function-calling turns).
    public var transcript = ""

    /// Creates an empty result.
    public init(method: String, question: String, answer: String = "") {
        self.method = method; self.question = question; self.answer = answer
    }

    /// Prompt tokens over all counted calls.
    public var promptTokens: Int { calls.reduce(0) { $0 + $1.promptTokens } }
    /// Generated tokens over all counted calls.
    public var completionTokens: Int { calls.reduce(0) { $0 + $1.completionTokens } }
    /// Both.
    public var totalTokens: Int { promptTokens + completionTokens }
    /// Seconds spent in counted LLM calls (summed; calls never overlap within one method).
    public var llmSeconds: Double { calls.reduce(0) { $0 + $1.end - $1.start } }
}

/// A stopwatch relative to a question's start.
struct Stopwatch: Sendable {
    let clock = ContinuousClock()
    let t0: ContinuousClock.Instant
    init() { t0 = clock.now }
    var elapsed: Double {
        let d = clock.now - t0
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}

/// Settings every method shares, so that baselines run with the same model and decoding.
public struct AgentOptions: Sendable {
    /// Model id sent in requests.
    public var model: String
    /// Constrain outputs to each method's grammar (needed for SmolLM2-135M; a reported deviation).
    public var constrained: Bool = true
    /// Most tokens of one planner call.
    public var maxPlanTokens: Int = 512
    /// Most tokens of one joiner, ReAct or function-calling step.
    public var maxStepTokens: Int = 128
    /// LLMCompiler: extra planning rounds after the first (0 = no replanning, the released configs).
    public var maxReplans: Int = 1
    /// LLMCompiler: stream the plan into the TFU (off: parse the whole plan, then execute).
    public var streaming: Bool = true
    /// LLMCompiler: most tasks in a constrained plan (join included).
    public var maxPlanTasks: Int = 10
    /// ReAct / function calling: most steps before giving up.
    public var maxSteps: Int = 12
    /// Benchmark-specific few-shot examples (planner, joiner, ReAct, function calling).
    public var examples: FewShotExamples = .standard

    /// Options for `model`.
    public init(model: String) { self.model = model }
}

/// A gold script for one question: what a perfect model would write at each step of each method.
/// In oracle mode the real model is forced to write exactly this (single-choice constrained
/// decoding), so prompts, decoding and tools all cost what they really cost.
public struct GoldScript: Sendable, Codable, Equatable {
    /// LLMCompiler plan, ending `join()<END_OF_PLAN>`.
    public var plan: String
    /// LLMCompiler joiner output: `Thought: ...\nAction: Finish(...)`.
    public var joiner: String
    /// ReAct steps: `Thought: ...\nAction: search[...]`, the last one `Action: Finish[...]`.
    public var react: [String]
    /// Function-calling turns: JSON arrays of calls, the last one `{"answer": ...}`.
    public var parallel: [String]
    /// Gold expressions for `math` problems.
    public var math: [String: String]

    /// Creates a script.
    public init(plan: String, joiner: String, react: [String], parallel: [String], math: [String: String] = [:]) {
        self.plan = plan; self.joiner = joiner; self.react = react; self.parallel = parallel; self.math = math
    }
}

extension ChatModelClient {
    /// One timed, counted, non-streaming call.
    func timedComplete(_ r: ChatCompletionRequest, role: String, watch: Stopwatch) async throws -> (String, LLMCallRecord) {
        let start = watch.elapsed
        let reply = try await complete(r)
        let text = reply.choices.first?.message.content ?? ""
        return (text, LLMCallRecord(role: role, promptTokens: reply.usage.prompt_tokens, completionTokens: reply.usage.completion_tokens,
                                    start: start, end: watch.elapsed, output: text))
    }
}
