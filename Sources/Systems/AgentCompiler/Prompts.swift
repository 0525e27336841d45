// SPDX-License-Identifier: Apache-2.0

/// Few-shot examples for every method, written for the same three question shapes so that no
/// method sees more help than another. Entities used here are excluded from the generated sets.
public struct FewShotExamples: Sendable {
    /// LLMCompiler plans (each `Question: ...` followed by numbered lines ending `join()<END_OF_PLAN>`).
    public var planner: [String]
    /// Joiner traces (`Question`, executed actions and observations, `Thought`, `Action: Finish(...)`).
    public var joiner: [String]
    /// ReAct traces.
    public var react: [String]
    /// Function-calling traces.
    public var parallel: [String]

    /// The LLMCompiler plan of a ParallelQA question ("if A had appeared k years later and B m
    /// years earlier, how many years apart would they be?"): two lookups, each shifted by a math
    /// step, and their distance. The few-shot example and every generated gold plan are this plan.
    public static func yearGapPlan(_ a: String, later k: Int, _ b: String, earlier m: Int) -> String {
        """
        1. search("\(a)")
        2. math("the year \(a) appeared plus \(k)", ["$1"])
        3. search("\(b)")
        4. math("the year \(b) appeared minus \(m)", ["$3"])
        5. math("abs($2 - $4)")
        Thought: I can answer the question now.
        6. join()\(StreamingPlanParser.endOfPlan)
        """
    }

    /// Entities the examples use (kept out of generated questions).
    public static let reservedEntities: Set<String> = ["unix", "fortran", "lisp", "cobol", "algol", "pascal", "basic", "ibm"]

    /// The examples used by the CLI and the benchmarks.
    public static let standard = FewShotExamples(
        planner: [
            """
            Question: Which appeared first, Fortran or Pascal?
            1. search("Fortran")
            2. search("Pascal")
            Thought: I can answer the question now.
            3. join()<END_OF_PLAN>
            """,
            "Question: If Lisp had appeared 4 years later and COBOL 2 years earlier, how many years apart would they be?\n"
                + yearGapPlan("Lisp", later: 4, "COBOL", earlier: 2),
        ],
        joiner: [
            """
            Question: Which appeared first, Fortran or Pascal?
            search("Fortran")
            Observation: Fortran (language): The first and, for a long time, the most widely used language for numerical work, from 1957.
            search("Pascal")
            Observation: Pascal (language): A programming language designed by Niklaus Wirth around 1970.
            Thought: Fortran dates from 1957 and Pascal from 1970, so Fortran came first.
            Action: Finish(Fortran)
            """,
            """
            Question: Which is the same kind of thing as ALGOL, BASIC, Lisp and Fortran? Options: (A) IBM (B) Pascal
            search("ALGOL")
            Observation: ALGOL (language): A family of programming languages.
            search("IBM")
            Observation: IBM (company): A computer manufacturer.
            search("Pascal")
            Observation: Pascal (language): A programming language designed by Niklaus Wirth.
            Thought: The references are languages; Pascal is a language and IBM is a company.
            Action: Finish(Pascal)
            """,
        ],
        react: [
            """
            Question: Which appeared first, Fortran or Pascal?
            Thought: I need the year of Fortran.
            Action: search[Fortran]
            Observation: Fortran (language): The first and, for a long time, the most widely used language for numerical work, from 1957.
            Thought: Now I need the year of Pascal.
            Action: search[Pascal]
            Observation: Pascal (language): A programming language designed by Niklaus Wirth around 1970.
            Thought: 1957 is before 1970, so Fortran came first.
            Action: Finish[Fortran]
            """,
            """
            Question: If Lisp had appeared 4 years later and COBOL 2 years earlier, how many years apart would they be?
            Thought: I need the year of Lisp.
            Action: search[Lisp]
            Observation: Lisp (language): A language for symbolic computation designed by John McCarthy in 1960.
            Thought: Now I need the year of COBOL.
            Action: search[COBOL]
            Observation: COBOL (language): A language for business data processing designed in 1959.
            Thought: Lisp becomes 1964 and COBOL 1957; I compute the difference.
            Action: calc[abs((1960 + 4) - (1959 - 2))]
            Observation: 7
            Thought: The answer is 7.
            Action: Finish[7]
            """,
        ],
        parallel: [
            """
            Question: Which appeared first, Fortran or Pascal?
            Calls: [{"name": "search", "arguments": {"entity": "Fortran"}}, {"name": "search", "arguments": {"entity": "Pascal"}}]
            Results: 1. Fortran (language): ... from 1957. 2. Pascal (language): ... around 1970.
            Calls: {"answer": "Fortran"}
            """,
            """
            Question: If Lisp had appeared 4 years later and COBOL 2 years earlier, how many years apart would they be?
            Calls: [{"name": "search", "arguments": {"entity": "Lisp"}}, {"name": "search", "arguments": {"entity": "COBOL"}}]
            Results: 1. Lisp (language): ... designed in 1960. 2. COBOL (language): ... designed in 1959.
            Calls: [{"name": "calc", "arguments": {"expression": "abs((1960 + 4) - (1959 - 2))"}}]
            Results: 1. 7
            Calls: {"answer": "7"}
            """,
        ])
}

/// Assembles the LLMCompiler planner prompt (the paper's structure, our wording): the N+1 action
/// types with their signatures and rules, `join()`, the guidelines, replanning guidelines, and
/// few-shot plans separated by `###`.
public enum PlannerPrompt {
    /// The system message.
    public static func system(tools: ToolRegistry, examples: [String], replan: Bool) -> String {
        var s = "Given a question, make a plan that answers it with as many actions in parallel as possible. "
        s += "Each action is one of the following \(tools.tools.count + 1) types:\n"
        for (i, t) in tools.tools.enumerated() {
            s += "\(i + 1). \(t.signature)\n"
            for r in t.rules { s += " - \(r)\n" }
        }
        s += """
            \(tools.tools.count + 1). join():
             - Collects the results of the earlier actions; a separate step then answers the question or asks for a new plan.
             - join is always the last action. Call it when the answer can be assembled from the results, or when it cannot be known before the actions run.

            Guidelines:
             - Follow each action's input and output types exactly.
             - Number the actions with unique, strictly increasing integers.
             - An input is a constant or $id, the output of an earlier action with that id.
             - End the plan with join() and then <END_OF_PLAN>.
             - Put every action that does not need another's output first, so they run in parallel.
             - Write nothing but actions and at most one Thought line; invent no other action types.

            """
        if replan {
            s += """
                Replanning:
                 - The previous plan and its results are given; the Thought after them says what is missing.
                 - Start with a Thought, never repeat an action that already ran, and reuse earlier results by their $id.
                 - Continue numbering after the previous plan.

                """
        }
        s += "Here are some examples:\n\n" + examples.joined(separator: "\n###\n") + "\n###\n"
        return s
    }

    /// The user message (with the previous rounds when replanning).
    public static func user(question: String, previous: [String]) -> String {
        if previous.isEmpty { return "Question: \(question)" }
        var s = "Question: \(question)\n"
        for p in previous { s += "Previous Plan:\n\n\(p)\n\n" }
        return s + "Current Plan:\n\n"
    }

    /// The grammar of a whole plan for constrained decoding: lines `i. tool(args)` for
    /// i = first, first+1, ... whose references name only tasks before i, ending in `k. join()<END_OF_PLAN>`.
    public static func grammar(tools: ToolRegistry, first: Int, maxTasks: Int, earlier: [Int] = []) -> String {
        let last = first + max(1, maxTasks) - 1
        func refs(before i: Int) -> String? {
            let all = earlier.filter { $0 < first } + Array(first..<i)
            guard !all.isEmpty else { return nil }
            return "\\$(" + all.map(String.init).joined(separator: "|") + ")"
        }
        var pattern = "\(last)\\. join\\(\\)<END_OF_PLAN>"
        for i in stride(from: last - 1, through: first, by: -1) {
            let calls = tools.tools.map { t in "\(t.name)\\(\(t.argumentPattern(reference: refs(before: i)))\\)" }
            let join = i > first ? "join\\(\\)<END_OF_PLAN>|" : ""
            pattern = "\(i)\\. (\(join)(\(calls.joined(separator: "|")))\\n\(pattern))"
        }
        return pattern
    }
}

/// The joiner: reads the executed plan and either finishes with an answer or asks for a new plan.
public enum Joiner {
    /// The joiner's decision.
    public enum Decision: Sendable, Equatable {
        case finish(answer: String, thought: String)
        case replan(reason: String, thought: String)
    }

    /// System message: instructions and examples.
    public static func system(examples: [String]) -> String {
        """
        Answer the question from the results of the actions that ran. Reply with exactly two lines:
        Thought: <your reasoning about the results>
        Action: Finish(<answer>) where the answer is only a name or a number, or Action: Replan(<what is missing>) if the results cannot answer the question.

        Here are some examples:

        \(examples.joined(separator: "\n###\n"))
        ###
        """
    }

    /// The scratchpad of executed tasks: `[Thought: ...]` + action + `Observation: ...` per task.
    public static func scratchpad(_ records: [TaskRecord], tools: ToolRegistry, numbered: Bool = false) -> String {
        var s = ""
        for r in records where !r.task.isJoin {
            if let t = r.task.thought, !t.isEmpty { s += "Thought: \(t)\n" }
            let action = tools[r.task.name]?.stringify(r.arguments) ?? r.task.line
            s += numbered ? "\(r.task.index). \(action)\n" : "\(action)\n"
            s += "Observation: \(r.observation)\n"
        }
        return s
    }

    /// User message.
    public static func user(question: String, scratchpad: String) -> String {
        "Question: \(question)\n\(scratchpad)"
    }

    /// Grammar for small models: an optional thought line and one action.
    public static let grammar = "Thought: [^\\n]{1,160}\\nAction: (Finish\\([^\\n()]{1,60}\\)|Replan\\([^\\n()]{1,100}\\))"

    /// Parses the joiner's reply. The answer runs from the first `(` to the last `)` of the action
    /// line (the reference code stops at the first `)`, truncating answers that contain one).
    /// Without an action line, the whole reply is the answer.
    public static func parse(_ text: String) -> Decision {
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let thought = lines.first { $0.hasPrefix("Thought:") }.map { String($0.dropFirst(8)).trimmingCharacters(in: .whitespaces) } ?? ""
        guard let action = lines.first(where: { $0.hasPrefix("Action:") }) else {
            return .finish(answer: text.trimmingCharacters(in: .whitespacesAndNewlines), thought: thought)
        }
        var body = String(action.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        if let open = body.firstIndex(of: "(") {
            let close = body.lastIndex(of: ")").flatMap { $0 > open ? $0 : nil } ?? body.endIndex
            let inner = String(body[body.index(after: open)..<close]).trimmingCharacters(in: .whitespaces)
            let verb = String(body[..<open]).trimmingCharacters(in: .whitespaces)
            body = inner
            if verb.hasPrefix("Replan") { return .replan(reason: inner, thought: thought) }
            return .finish(answer: inner, thought: thought)
        }
        if body.hasPrefix("Replan") { return .replan(reason: "", thought: thought) }
        return .finish(answer: body, thought: thought)
    }
}

import Foundation
