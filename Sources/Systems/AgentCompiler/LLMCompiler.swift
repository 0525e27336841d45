// SPDX-License-Identifier: Apache-2.0

import Foundation
public import OpenAIAPI

/// LLMCompiler (Kim et al., ICML 2024): a planner writes the whole task DAG at once, streamed; the
/// Task Fetching Unit runs each task as soon as its inputs resolve; a joiner answers or asks for a
/// new plan, which continues the numbering and may reuse earlier results by `$id`.
public struct LLMCompiler: Sendable {
    /// The model.
    public let client: any ChatModelClient
    /// The tools.
    public let tools: ToolRegistry
    /// Shared settings.
    public let options: AgentOptions
    /// Live timeline events (task arrivals, starts and ends).
    public let onEvent: (@Sendable (TaskFetchingUnit.TimelineEvent) -> Void)?

    /// Creates the agent.
    public init(client: any ChatModelClient, tools: ToolRegistry, options: AgentOptions,
                onEvent: (@Sendable (TaskFetchingUnit.TimelineEvent) -> Void)? = nil) {
        self.client = client
        self.tools = tools
        self.options = options
        self.onEvent = onEvent
    }

    /// Answers `question`. With `gold`, every model call is forced to the gold output (oracle mode).
    public func answer(_ question: String, gold: GoldScript? = nil) async throws -> AgentResult {
        let watch = Stopwatch()
        var result = AgentResult(method: "llmcompiler", question: question)
        var previous: [String] = []
        var observations: [Int: TaskRecord] = [:]
        var lastIndex = 0
        for round in 0...max(0, options.maxReplans) {
            let replan = round > 0
            var request = ChatCompletionRequest(model: options.model, messages: [
                ChatCompletionMessage(role: "system", content: PlannerPrompt.system(tools: tools, examples: options.examples.planner, replan: replan)),
                ChatCompletionMessage(role: "user", content: PlannerPrompt.user(question: question, previous: previous)),
            ])
            request.temperature = 0
            request.max_tokens = options.maxPlanTokens
            request.stop = .many([StreamingPlanParser.endOfPlan])
            if let gold, !replan {
                request.guided_choice = [gold.plan]
                request.stop = nil
            } else if options.constrained {
                request.guided_regex = PlannerPrompt.grammar(tools: tools, first: lastIndex + 1, maxTasks: options.maxPlanTasks,
                                                             earlier: observations.keys.sorted())
                request.stop = nil
            }
            var parser = StreamingPlanParser(toolNames: tools.names, after: lastIndex, earlier: Set(observations.keys))
            let prior = observations.mapValues(\.observation)
            let (planText, call, execution) = try await plan(request, parser: &parser, prior: prior, watch: watch)
            result.calls.append(call)
            result.plans.append(planText)
            result.executions.append(execution)
            result.issues += parser.issues
            for (i, r) in execution.records { observations[i] = r }
            lastIndex = max(lastIndex, parser.tasks.map(\.index).max() ?? lastIndex)
            result.toolCalls += execution.records.values.filter { !$0.task.isJoin }.count
            result.toolSeconds += execution.toolSeconds

            // Join: the scratchpad holds every executed task so far (earlier rounds included).
            let pad = Joiner.scratchpad(observations.keys.sorted().map { observations[$0]! }, tools: tools)
            var j = ChatCompletionRequest(model: options.model, messages: [
                ChatCompletionMessage(role: "system", content: Joiner.system(examples: options.examples.joiner)),
                ChatCompletionMessage(role: "user", content: Joiner.user(question: question, scratchpad: pad)),
            ])
            j.temperature = 0
            j.max_tokens = options.maxStepTokens
            if let gold, !replan, !gold.joiner.isEmpty {
                j.guided_choice = [gold.joiner]
            } else if options.constrained {
                j.guided_regex = Joiner.grammar
            } else {
                j.stop = .many(["\n\n", "###"])
            }
            let (joinText, joinCall) = try await client.timedComplete(j, role: "joiner", watch: watch)
            result.calls.append(joinCall)
            switch Joiner.parse(joinText) {
            case .finish(let answer, _):
                result.answer = answer
                result.wallSeconds = watch.elapsed
                return result
            case .replan(let reason, let thought):
                if round == max(0, options.maxReplans) {
                    result.answer = ""  // the last round may not replan: no answer
                    break
                }
                result.replans += 1
                let numbered = Joiner.scratchpad(execution.ordered, tools: tools, numbered: true)
                previous.append(numbered + "\nThought: \(thought.isEmpty ? reason : thought)")
            }
        }
        result.wallSeconds = watch.elapsed
        return result
    }

    /// Runs one planner call and executes its plan: streamed (tasks start while the planner is
    /// still writing) or, with streaming off, parsed whole and then executed.
    func plan(_ request: ChatCompletionRequest, parser: inout StreamingPlanParser, prior: [Int: Observation], watch: Stopwatch)
        async throws -> (String, LLMCallRecord, Execution) {
        let start = watch.elapsed
        if !options.streaming {
            let reply = try await client.complete(request)
            let text = reply.choices.first?.message.content ?? ""
            let call = LLMCallRecord(role: "planner", promptTokens: reply.usage.prompt_tokens, completionTokens: reply.usage.completion_tokens,
                                     start: start, end: watch.elapsed, output: text)
            _ = parser.feed(text)
            _ = parser.finish()
            let execution = await TaskFetchingUnit(tools: tools, onEvent: onEvent).execute(parser.tasks, prior: prior)
            return (text, call, execution)
        }
        var r = request
        r.stream = true
        r.stream_options = StreamOptions(include_usage: true)
        let (taskStream, sink) = AsyncThrowingStream<PlanTask, any Error>.makeStream()
        let tfu = TaskFetchingUnit(tools: tools, onEvent: onEvent)
        async let execution = tfu.execute(taskStream, prior: prior)
        var text = ""
        var usage: Usage?
        do {
            for try await chunk in try await client.stream(r) {
                if let u = chunk.usage { usage = u }
                for c in chunk.choices {
                    guard let piece = c.delta.content, !piece.isEmpty else { continue }
                    text += piece
                    for t in parser.feed(piece) { sink.yield(t) }
                }
            }
            for t in parser.finish() { sink.yield(t) }
            sink.finish()
        } catch {
            sink.finish()
            _ = await execution
            throw error
        }
        let end = watch.elapsed
        let call = LLMCallRecord(role: "planner", promptTokens: usage?.prompt_tokens ?? 0, completionTokens: usage?.completion_tokens ?? 0,
                                 start: start, end: end, output: text)
        return (text, call, await execution)
    }
}

extension StreamingPlanParser {
    /// A parser for a replanning round: numbering continues after `after`, and `earlier` tasks'
    /// results may be referenced.
    public init(toolNames: some Sequence<String>, after: Int, earlier: Set<Int>) {
        self.init(toolNames: toolNames)
        lastIndex = after
        known = earlier
    }
}
