// SPDX-License-Identifier: Apache-2.0

import Foundation
import Support

extension AgentResult {
    /// The plan DAG of each round, a timeline of the tasks running in parallel, the answer and the
    /// cost (what `tern agent` prints); a baseline's transcript instead of a DAG.
    public func textReport() -> String {
        let r = self
        var s = ""
        if !r.executions.isEmpty {
            for (round, e) in r.executions.enumerated() {
                s += r.executions.count > 1 ? "Plan \(round + 1) (DAG):\n" : "Plan (DAG):\n"
                for rec in e.ordered {
                    let deps = rec.task.dependencies.isEmpty ? "" : "  <- " + rec.task.dependencies.map { "$\($0)" }.joined(separator: ", ")
                    s += "  \(rec.task.line)\(deps)\n"
                }
                for t in e.unresolved { s += "  \(t.line)  (never ran: inputs missing)\n" }
                s += "Timeline (seconds from the start of execution):\n" + timeline(e)
            }
            for i in r.issues { s += "  plan issue: \(i)\n" }
        } else {
            s += r.transcript
        }
        s += "Answer: \(r.answer.isEmpty ? "(none)" : r.answer)\n"
        s += String(format: "wall %.2f s, LLM %.2f s in %d calls, %d prompt + %d completion tokens, %d tool calls\n",
                    r.wallSeconds, r.llmSeconds, r.calls.count, r.promptTokens, r.completionTokens, r.toolCalls)
        return s
    }

    /// One bar per task over the execution's makespan.
    func timeline(_ e: Execution) -> String {
        let width = 48.0
        let span = max(e.makespan, 1e-3)
        var s = ""
        for rec in e.ordered where !rec.task.isJoin {
            let a = Int((rec.start / span * width).rounded()), b = max(a + 1, Int((rec.end / span * width).rounded()))
            let bar = String(repeating: " ", count: a) + String(repeating: "#", count: b - a)
            s += String(format: "  %3d %-8@ |%@%@| %.2f-%.2f\n", rec.task.index, rec.task.name, bar,
                        String(repeating: " ", count: max(0, Int(width) - b)), rec.start, rec.end)
        }
        return s
    }

    /// The result as one JSON object (`tern agent --json`): answer, cost, calls and tasks.
    public func jsonText() throws -> String {
        let r = self
        var o: [String: JSONValue] = [
            "method": .string(r.method), "question": .string(r.question), "answer": .string(r.answer), "wall_seconds": JSONValue(r.wallSeconds),
            "llm_seconds": JSONValue(r.llmSeconds), "prompt_tokens": JSONValue(r.promptTokens), "completion_tokens": JSONValue(r.completionTokens),
            "tool_calls": JSONValue(r.toolCalls), "replans": JSONValue(r.replans), "plans": .array(r.plans.map { .string($0) }),
            "issues": .array(r.issues.map { .string($0.description) }),
            "calls": .array(r.calls.map {
                ["role": .string($0.role), "prompt_tokens": JSONValue($0.promptTokens), "completion_tokens": JSONValue($0.completionTokens),
                 "start": JSONValue($0.start), "end": JSONValue($0.end), "output": .string($0.output)]
            }),
        ]
        o["tasks"] = .array(r.executions.flatMap { $0.ordered }.map {
            ["index": JSONValue($0.task.index), "name": .string($0.task.name), "dependencies": .array($0.task.dependencies.map { JSONValue($0) }),
             "arrival": JSONValue($0.arrival), "start": JSONValue($0.start), "end": JSONValue($0.end), "observation": .string($0.observation.description)]
        })
        if !r.transcript.isEmpty { o["transcript"] = .string(r.transcript) }
        return JSONValue.object(o).jsonText()
    }
}
