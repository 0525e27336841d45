// SPDX-License-Identifier: Apache-2.0

import AgentCompiler
import GGUF
import InferenceEngine
import OpenAIAPI
import OpenAIServer
import TestSupport
import Testing
import Tokenization
import TransformerModels

@Suite("LLMCompiler end to end on SmolLM2-135M", .serialized)
struct RealModelTests {
    @Test("oracle plan through the real model: streamed plan, parallel searches, correct answer; live constrained plan parses")
    func endToEnd() async throws {
        let (service, engine) = try smolLM2Service()
        defer { engine.shutdown() }
        let shipped = try QuestionSets.load(path: Fixtures.repositoryRoot + "/bench/compiler/questions.json")
        let q = try #require(shipped.first { $0.set == "hotpotqa" })
        let tools = ToolRegistry([FoldocSearchTool(dictionary: foldoc, sentences: 2)]).withLatency(InjectedLatency(mean: 0.2))
        var options = AgentOptions(model: "smollm2")
        options.maxReplans = 0
        options.maxPlanTasks = 4
        let agent = LLMCompiler(client: service, tools: tools, options: options)

        let oracle = try await agent.answer(q.question, gold: q.gold)
        #expect(Scoring.isCorrect(oracle.answer, label: q.answer), "\(oracle.answer) vs \(q.answer)")
        #expect(oracle.plans.first == q.gold.plan)
        let r = oracle.executions[0].records
        // Streaming: the first search ran before the planner had written the rest of the plan.
        #expect(r[1]!.start < r[3]!.arrival)
        #expect(oracle.calls.map(\.role) == ["planner", "joiner"])
        #expect(oracle.promptTokens > 300 && oracle.completionTokens > 10)

        // The model plans by itself under the plan grammar: whatever it writes parses.
        let live = try await agent.answer(q.question)
        #expect(live.issues.isEmpty, "\(live.issues) in \(live.plans)")
        let tasks = live.executions[0].ordered
        #expect(tasks.last?.task.isJoin == true && tasks.count >= 2, "\(live.plans)")
        #expect(!live.answer.isEmpty)
    }
}
