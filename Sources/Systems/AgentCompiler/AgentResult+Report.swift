// SPDX-License-Identifier: Apache-2.0

import Foundation

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
        var o: [String: Any] = [
            "method": r.method, "question": r.question, "answer": r.answer, "wall_seconds": r.wallSeconds,
            "llm_seconds": r.llmSeconds, "prompt_tokens": r.promptTokens, "completion_tokens": r.completionTokens,
            "tool_calls": r.toolCalls, "replans": r.replans, "plans": r.plans, "issues": r.issues.map(\.description),
            "calls": r.calls.map { ["role": $0.role, "prompt_tokens": $0.promptTokens, "completion_tokens": $0.completionTokens,
                                    "start": $0.start, "end": $0.end, "output": $0.output] as [String: Any] },
        ]
        o["tasks"] = r.executions.flatMap { $0.ordered }.map {
            ["index": $0.task.index, "name": $0.task.name, "dependencies": $0.task.dependencies, "arrival": $0.arrival,
             "start": $0.start, "end": $0.end, "observation": $0.observation.description] as [String: Any]
        }
        if !r.transcript.isEmpty { o["transcript"] = r.transcript }
        let data = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
