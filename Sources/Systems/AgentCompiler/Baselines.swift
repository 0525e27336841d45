// SPDX-License-Identifier: Apache-2.0

import Foundation
public import OpenAIAPI
public import Support

/// ReAct (Yao et al.), the paper's baseline: one growing prompt; each step the model writes
/// `Thought: ...` and `Action: tool[input]` (or `Finish[answer]`), generation stops before
/// `Observation:`, the tool runs, and its observation is appended. Calls are strictly sequential.
public struct ReAct: Sendable {
    /// The model, the tools (each takes its whole bracketed input as one string) and the shared settings.
    public let client: any ChatModelClient, tools: ToolRegistry, options: AgentOptions

    /// Creates the agent.
    public init(client: any ChatModelClient, tools: ToolRegistry, options: AgentOptions) {
        self.client = client; self.tools = tools; self.options = options
    }

    /// Instructions and examples.
    public func system() -> String {
        var s = "Answer the question by interleaving Thought, Action and Observation steps. "
        s += "A Thought reasons about the current situation. An Action is one of:\n"
        for t in tools.tools {
            s += "\(t.name)[\(t.parameters.first?.name ?? "input")]: " + (t.rules.first ?? "") + "\n"
        }
        s += "Finish[answer]: returns the answer (only a name or a number) and ends the task.\n"
        s += "Write one Thought and one Action per step, then wait for the Observation.\n\nHere are some examples:\n\n"
        s += options.examples.react.joined(separator: "\n###\n") + "\n###\n"
        return s
    }

    /// The grammar of one step for constrained decoding.
    public var stepGrammar: String {
        let calls = tools.tools.map { "\($0.name)\\[[^\\]\\n]{1,60}\\]" } + ["Finish\\[[^\\]\\n]{1,60}\\]"]
        return "Thought: [^\\n]{1,160}\\nAction: (\(calls.joined(separator: "|")))"
    }

    /// Answers `question` (with `gold`, each step is forced to the gold step).
    public func answer(_ question: String, gold: GoldScript? = nil) async throws -> AgentResult {
        let watch = Stopwatch()
        var result = AgentResult(method: "react", question: question)
        var pad = ""
        let system = system()
        for step in 0..<options.maxSteps {
            var r = ChatCompletionRequest(model: options.model, messages: [
                ChatCompletionMessage(role: "system", content: system),
                ChatCompletionMessage(role: "user", content: "Question: \(question)\n\(pad)"),
            ])
            r.temperature = 0
            r.max_tokens = options.maxStepTokens
            r.stop = .many(["\nObservation", "Observation:"])
            if let gold, step < gold.react.count {
                r.guided_choice = [gold.react[step]]
                r.stop = nil
            } else if options.constrained {
                r.guided_regex = stepGrammar
                r.stop = nil
            }
            let (text, call) = try await client.timedComplete(r, role: "react", watch: watch)
            result.calls.append(call)
            let stepText = text.trimmingCharacters(in: .whitespacesAndNewlines)
            pad += stepText + "\n"
            guard case let (action, input)? = Self.parseAction(stepText) else {
                pad += "Observation: Invalid action. Write 'Action: tool[input]' or 'Action: Finish[answer]'.\n"
                continue
            }
            if action == "Finish" {
                result.answer = input
                break
            }
            let observation: Observation
            let t0 = watch.elapsed
            if let tool = tools[action] {
                do { observation = try await tool.call([.string(input)]) } catch { observation = .failure("\(error)") }
            } else {
                observation = .failure("unknown action \(action)")
            }
            result.toolCalls += 1
            result.toolSeconds += watch.elapsed - t0
            pad += "Observation: \(observation)\n"
        }
        result.transcript = pad
        result.wallSeconds = watch.elapsed
        return result
    }

    /// `Action: search[Python]` -> ("search", "Python"), from the last `Action:` line.
    public static func parseAction(_ text: String) -> (String, String)? {
        guard let line = text.split(separator: "\n").last(where: { $0.contains("Action:") }) else { return nil }
        let body = line[line.range(of: "Action:")!.upperBound...].trimmingCharacters(in: .whitespaces)
        guard let open = body.firstIndex(of: "["), let close = body.lastIndex(of: "]"), close > open else { return nil }
        let name = body[..<open].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return nil }
        return (name, String(body[body.index(after: open)..<close]).trimmingCharacters(in: .whitespaces))
    }
}

/// The OpenAI parallel-function-calling analogue: each turn the model writes a JSON array of
/// independent calls (no references between them), all of which run concurrently; their results
/// come back as the next message; it ends when the model writes `{"answer": ...}`.
public struct ParallelFunctionCalling: Sendable {
    /// The model, the tools (called with JSON arguments) and the shared settings.
    public let client: any ChatModelClient, tools: ToolRegistry, options: AgentOptions

    /// Creates the agent.
    public init(client: any ChatModelClient, tools: ToolRegistry, options: AgentOptions) {
        self.client = client; self.tools = tools; self.options = options
    }

    /// Instructions, tool schemas and examples.
    public func system() -> String {
        var s = "Answer the question by calling tools. Each turn, reply with a JSON array of tool calls that do not depend on each other; "
        s += "they run in parallel and their results come back. Then call more tools or, once you know it, reply {\"answer\": \"<name or number>\"}.\nTools:\n"
        for t in tools.tools {
            let schema = (try? JSONEncoder.sorted.encode(t.parametersSchema)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
            s += "- \(t.name): \(t.rules.first ?? "") Parameters: \(schema)\n"
        }
        s += "\nHere are some examples:\n\n" + options.examples.parallel.joined(separator: "\n###\n") + "\n###\n"
        return s
    }

    /// The grammar of one turn: an array of 1 to 8 calls, or an answer object.
    public var turnGrammar: String {
        let str = "\"[^\"\\\\\\n]{1,60}\""
        let calls = tools.tools.map { t -> String in
            let args = t.parameters.filter { !$0.optional }.map { p -> String in
                let v: String
                switch p.type {
                case .string: v = str
                case .number: v = ToolPatterns.number
                case .stringList: v = "\\[(\(str)(, \(str)){0,3})?\\]"
                }
                return "\"\(p.name)\": \(v)"
            }
            return "\\{\"name\": \"\(t.name)\", \"arguments\": \\{\(args.joined(separator: ", "))\\}\\}"
        }
        let call = "(\(calls.joined(separator: "|")))"
        return "\\[\(call)(, \(call)){0,7}\\]|\\{\"answer\": \(str)\\}"
    }

    /// Answers `question` (with `gold`, each turn is forced to the gold turn).
    public func answer(_ question: String, gold: GoldScript? = nil) async throws -> AgentResult {
        let watch = Stopwatch()
        var result = AgentResult(method: "parallel", question: question)
        var messages = [ChatCompletionMessage(role: "system", content: system()),
                        ChatCompletionMessage(role: "user", content: "Question: \(question)")]
        for turn in 0..<options.maxSteps {
            var r = ChatCompletionRequest(model: options.model, messages: messages)
            r.temperature = 0
            r.max_tokens = options.maxPlanTokens
            if let gold, turn < gold.parallel.count {
                r.guided_choice = [gold.parallel[turn]]
            } else if options.constrained {
                r.guided_regex = turnGrammar
            }
            let (text, call) = try await client.timedComplete(r, role: "parallel", watch: watch)
            result.calls.append(call)
            result.transcript += "Calls: \(text)\n"
            messages.append(ChatCompletionMessage(role: "assistant", content: text))
            guard let json = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                messages.append(ChatCompletionMessage(role: "user", content: "That was not valid JSON. Reply with a JSON array of calls or {\"answer\": ...}."))
                continue
            }
            if let answer = json["answer"] {
                result.answer = Observation.render(answer)
                break
            }
            let calls = json.arrayValue ?? [json]
            let t0 = watch.elapsed
            let observations = await withTaskGroup(of: (Int, Observation).self) { group in
                for (i, c) in calls.enumerated() {
                    group.addTask {
                        guard let name = c["name"]?.stringValue, let tool = tools[name] else {
                            return (i, .failure("unknown tool \(c["name"]?.stringValue ?? "?")"))
                        }
                        let named = c["arguments"]?.objectValue ?? [:]
                        let args = tool.parameters.compactMap { named[$0.name].map(TaskArgument.init(json:)) }
                        do { return (i, try await tool.call(args)) } catch { return (i, .failure("\(error)")) }
                    }
                }
                var out = [Observation](repeating: .text(""), count: calls.count)
                for await (i, o) in group { out[i] = o }
                return out
            }
            result.toolCalls += calls.count
            result.toolSeconds += watch.elapsed - t0
            let results = "Results: " + observations.enumerated().map { "\($0.offset + 1). \($0.element)" }.joined(separator: " ")
            result.transcript += results + "\n"
            messages.append(ChatCompletionMessage(role: "user", content: results))
        }
        result.wallSeconds = watch.elapsed
        return result
    }
}
