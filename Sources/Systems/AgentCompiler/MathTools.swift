// SPDX-License-Identifier: Apache-2.0

import Foundation
public import OpenAIAPI
import Synchronization

/// `calc(expression)`: evaluates an arithmetic expression with ``SafeExpression``.
public struct CalculatorTool: Tool {
    public let name = "calc"
    public let parameters = [ToolParameter("expression", .string)]
    public let returnType = "number"
    public let rules = [
        "Evaluates an arithmetic expression such as \"abs(1991 - 1972) * 2\" and returns the number.",
        "Allowed: numbers, + - * / % **, parentheses, abs, min, max, round, floor, ceil, sqrt, log, exp.",
    ]

    /// Creates the tool.
    public init() {}

    public func call(_ arguments: [TaskArgument]) async throws -> Observation {
        guard let e = arguments.first?.text else { throw AgentError.badArguments(tool: name, "expected an expression") }
        return .number(try SafeExpression.evaluate(e))
    }

    public func argumentPattern(reference: String?) -> String {
        let atom = reference.map { "([0-9.]+|\($0))" } ?? "[0-9.]+"
        return "\"[a-z(]{0,5}\(atom)( ?[-+*/] ?\\(?\(atom)\\)?){1,4}\\)?\""
    }
}

/// Token usage of LLM calls a tool makes itself (the paper leaves `math`'s out of its cost).
public final class UsageMeter: Sendable {
    struct State {
        var prompt = 0
        var completion = 0
        var calls = 0
    }
    let state = Mutex(State())

    /// Creates an empty meter.
    public init() {}

    /// Adds one call's usage.
    public func add(_ u: Usage?) {
        state.withLock {
            $0.calls += 1
            $0.prompt += u?.prompt_tokens ?? 0
            $0.completion += u?.completion_tokens ?? 0
        }
    }

    /// (prompt tokens, completion tokens, calls) so far.
    public var totals: (prompt: Int, completion: Int, calls: Int) {
        state.withLock { ($0.prompt, $0.completion, $0.calls) }
    }
}

/// `math(problem, context)`: the model translates a word problem (with the context observations)
/// into one arithmetic expression, which ``SafeExpression`` evaluates (the paper uses numexpr).
///
/// With `oracle` set, the model is forced (constrained decoding to a single choice) to write the
/// gold expression for that problem: the call still costs a real prompt and real decoding, but
/// its content is right, which isolates orchestration from model quality.
public struct MathTool: Tool {
    /// The model.
    public let client: any ChatModelClient
    /// The model id sent in requests.
    public let model: String
    /// Constrain the expression to the arithmetic alphabet (small models).
    public let constrained: Bool
    /// Gold expressions by (substituted) problem text.
    public let oracle: [String: String]?
    /// Where the translation calls' tokens are counted.
    public let meter: UsageMeter?

    public let name = "math"
    public let parameters = [ToolParameter("problem", .string), ToolParameter("context", .stringList, optional: true)]
    public let returnType = "number"
    public let rules = [
        "Solves a math problem written in words and returns the number.",
        "The problem can reference earlier results with $id, for example math(\"abs($2 - $4)\").",
        "context is an optional list of earlier results the problem needs, for example [\"$1\"].",
        "math cannot search; search first, then pass the results as context.",
    ]

    /// Creates the tool.
    public init(client: any ChatModelClient, model: String, constrained: Bool = true, oracle: [String: String]? = nil, meter: UsageMeter? = nil) {
        self.client = client
        self.model = model
        self.constrained = constrained
        self.oracle = oracle
        self.meter = meter
    }

    static let instructions = """
        Translate a math problem into a single arithmetic expression that computes the answer. \
        Use only numbers, + - * / ( ) and abs, min, max, round. Take the numbers you need from the context. \
        Reply with the expression only.

        Context: Unix (operating system): An operating system invented in 1969 by Ken Thompson.
        Problem: the year Unix appeared plus 4
        Expression: 1969 + 4

        Problem: abs(1994 - 1967)
        Expression: abs(1994 - 1967)
        """

    public func call(_ arguments: [TaskArgument]) async throws -> Observation {
        guard let problem = arguments.first?.text else { throw AgentError.badArguments(tool: name, "expected a problem") }
        // A problem that already is an expression needs no model.
        if let v = try? SafeExpression.evaluate(problem) { return .number(v) }
        let context = arguments.dropFirst().map(\.text).filter { !$0.isEmpty }
        var user = ""
        if !context.isEmpty { user += "Context: " + context.joined(separator: "\nContext: ") + "\n" }
        user += "Problem: \(problem)\nExpression:"
        var r = ChatCompletionRequest(model: model, messages: [
            ChatCompletionMessage(role: "system", content: Self.instructions),
            ChatCompletionMessage(role: "user", content: user),
        ])
        r.temperature = 0
        r.max_tokens = 40
        if let gold = oracle?[problem] {
            r.guided_choice = [gold]
        } else if constrained {
            r.guided_regex = "[a-z(]{0,6}[0-9][0-9 .+*/()a-z,-]{0,48}"
            r.stop = .many(["\n"])
        }
        let reply = try await client.complete(r)
        meter?.add(reply.usage)
        let expression = (reply.choices.first?.message.content ?? "").split(separator: "\n").first.map(String.init) ?? ""
        do {
            return .number(try SafeExpression.evaluate(expression))
        } catch {
            return .failure("could not evaluate '\(expression)': \(error)")
        }
    }

    public func stringify(_ arguments: [TaskArgument]) -> String {
        "math(\(arguments.first?.description ?? "\"\""))"
    }
}
