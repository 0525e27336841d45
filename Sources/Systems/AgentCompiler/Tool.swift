// SPDX-License-Identifier: Apache-2.0

import Foundation
public import OpenAIAPI
public import Support

/// A tool's result. Observations keep their type (a number stays a number) so that a later task
/// whose argument is exactly `$n` receives the value itself; inside longer strings an observation
/// is substituted as its ``description`` (the paper's only mode, which breaks on structured output).
public enum Observation: Sendable, Equatable, Codable, CustomStringConvertible {
    case text(String)
    case number(Double)
    case json(JSONValue)
    /// The tool failed; the message is shown to the joiner like any other observation.
    case failure(String)

    /// The text substituted for `$n` inside a longer string and shown to the joiner.
    /// Whole numbers print without a fraction; others are rounded to 3 decimals (the paper's rule).
    public var description: String {
        switch self {
        case .text(let s): s
        case .number(let d): Observation.format(d)
        case .json(let v): Observation.render(v)
        case .failure(let m): "Error: \(m)"
        }
    }

    /// `1991.0` -> `"1991"`, `2.50004` -> `"2.5"`.
    public static func format(_ d: Double) -> String {
        guard d.isFinite else { return "\(d)" }
        let r = (d * 1000).rounded() / 1000
        if r == r.rounded(), abs(r) < 1e15 { return String(Int64(r)) }
        var s = String(format: "%.3f", r)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }

    static func render(_ v: JSONValue) -> String {
        switch v {
        case .null: "null"
        case .bool(let b): b ? "true" : "false"
        case .number(let d): format(d)
        case .string(let s): s
        case .array, .object:
            (try? JSONEncoder.sorted.encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? "\(v)"
        }
    }

    /// The observation as an argument value for a task that references it whole.
    var argumentValue: TaskArgument {
        switch self {
        case .number(let d): .number(d)
        case .json(.array(let a)): .list(a.map { Observation.json($0).argumentValue })
        case .json(.number(let d)): .number(d)
        default: .string(description)
        }
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
}

/// One argument of a task: the Python-literal subset plans use (strings, numbers, lists).
public enum TaskArgument: Sendable, Equatable, Codable, CustomStringConvertible {
    case string(String)
    case number(Double)
    case list([TaskArgument])

    /// The value as plain text (lists joined by newlines: how tools read context lists).
    public var text: String {
        switch self {
        case .string(let s): s
        case .number(let d): Observation.format(d)
        case .list(let l): l.map(\.text).joined(separator: "\n")
        }
    }

    /// The value written as a literal, as in a plan line: `"Python"`, `3`, `["$1", "$2"]`.
    public var description: String {
        switch self {
        case .string(let s): "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .number(let d): Observation.format(d)
        case .list(let l): "[" + l.map(\.description).joined(separator: ", ") + "]"
        }
    }

    /// As JSON (external tools and the parallel-calling baseline).
    public var json: JSONValue {
        switch self {
        case .string(let s): .string(s)
        case .number(let d): .number(d)
        case .list(let l): .array(l.map(\.json))
        }
    }

    /// From JSON; objects and booleans become their JSON text.
    public init(json: JSONValue) {
        switch json {
        case .string(let s): self = .string(s)
        case .number(let d): self = .number(d)
        case .array(let a): self = .list(a.map(TaskArgument.init(json:)))
        default: self = .string(Observation.render(json))
        }
    }
}

/// A parameter of a tool (for the planner's signature line and the function-calling schema).
public struct ToolParameter: Sendable, Equatable {
    /// The parameter name.
    public var name: String
    /// `str`, `number` or `list[str]` (Python-like, as the planner prompt writes them).
    public var type: ParameterType
    /// Whether a call may leave it out.
    public var optional: Bool

    /// A parameter's type.
    public enum ParameterType: String, Sendable {
        case string = "str"
        case number = "number"
        case stringList = "list[str]"

        var schema: JSONValue {
            switch self {
            case .string: .object(["type": .string("string")])
            case .number: .object(["type": .string("number")])
            case .stringList: .object(["type": .string("array"), "items": .object(["type": .string("string")])])
            }
        }
    }

    /// Creates a parameter.
    public init(_ name: String, _ type: ParameterType, optional: Bool = false) {
        self.name = name; self.type = type; self.optional = optional
    }
}

/// An asynchronous tool the planner can call.
///
/// ```swift
/// struct Shout: Tool {
///     let name = "shout"
///     let parameters = [ToolParameter("text", .string)]
///     let rules = ["Returns the text in capitals."]
///     func call(_ arguments: [TaskArgument]) async throws -> Observation {
///         .text(arguments.first?.text.uppercased() ?? "")
///     }
/// }
/// ```
public protocol Tool: Sendable {
    /// The name the planner writes (`search`).
    var name: String { get }
    /// Positional parameters.
    var parameters: [ToolParameter] { get }
    /// What the result is (`str`, `number`).
    var returnType: String { get }
    /// Bullet rules shown under the signature in the planner prompt.
    var rules: [String] { get }
    /// Runs the tool on already-substituted arguments.
    func call(_ arguments: [TaskArgument]) async throws -> Observation
    /// How an executed call is shown to the joiner (`search(Python)`); `math` drops its context.
    func stringify(_ arguments: [TaskArgument]) -> String
    /// Regular expression for one argument list, for constrained plan decoding. `reference` is a
    /// regex matching a reference to an earlier task (or `nil` when none exists yet).
    func argumentPattern(reference: String?) -> String
}

extension Tool {
    public var returnType: String { "str" }

    public func stringify(_ arguments: [TaskArgument]) -> String {
        "\(name)(\(arguments.map(\.description).joined(separator: ", ")))"
    }

    /// `search(entity: str) -> str` followed by the rules as bullets.
    public var signature: String {
        let params = parameters.map { "\($0.name): \($0.optional ? "Optional[\($0.type.rawValue)]" : $0.type.rawValue)" }
        return "\(name)(\(params.joined(separator: ", "))) -> \(returnType)"
    }

    public func argumentPattern(reference: String?) -> String {
        ToolPatterns.arguments(parameters, reference: reference)
    }

    /// A JSON schema object for the parameters (function calling, external tools).
    public var parametersSchema: JSONValue {
        var props: [String: JSONValue] = [:]
        for p in parameters { props[p.name] = p.type.schema }
        return .object(["type": .string("object"), "properties": .object(props),
                        "required": .array(parameters.filter { !$0.optional }.map { .string($0.name) })])
    }
}

/// Building blocks of the constrained-decoding grammar for plan lines.
public enum ToolPatterns {
    /// A quoted string of 1 to `max` characters without quotes, newlines, backslashes or `$`,
    /// in which (when `reference` is given) references to earlier tasks may appear anywhere.
    public static func quoted(max: Int = 48, reference: String?) -> String {
        let first = "[A-Za-z0-9(]", rest = "[^\"\\n$\\\\]"
        guard let reference else { return "\"\(first)\(rest){0,\(max - 1)}\"" }
        return "\"(\(first)|\(reference))(\(rest)|\(reference)){0,\(max - 1)}\""
    }

    /// A number literal.
    public static let number = "-?[0-9]{1,9}(\\.[0-9]{1,4})?"

    /// An argument list for `parameters`: required ones always, optional ones as a group.
    public static func arguments(_ parameters: [ToolParameter], reference: String?) -> String {
        var out = ""
        var optionalTail = ""
        for (i, p) in parameters.enumerated() {
            let sep = i == 0 ? "" : ", "
            let value: String
            switch p.type {
            case .string: value = quoted(reference: reference)
            case .number: value = reference.map { "(\(number)|\($0))" } ?? number
            case .stringList:
                // A list of references (the only thing a context list holds in a plan).
                if let reference { value = "\\[\"\(reference)\"(, \"\(reference)\"){0,3}\\]" } else { value = "\\[\\]" }
            }
            if p.optional { optionalTail += "(\(sep)\(value))?" } else { out += sep + value }
        }
        return out + optionalTail
    }
}

/// Errors of this module; each case carries the offending value.
public enum AgentError: Error, CustomStringConvertible, Equatable {
    case unknownTool(String)
    case badArguments(tool: String, String)
    case toolFailed(tool: String, String)
    case expression(String)
    case dictionary(String)
    case external(command: String, String)
    case model(String)

    public var description: String {
        switch self {
        case .unknownTool(let n): "unknown tool '\(n)'"
        case .badArguments(let t, let m): "\(t): bad arguments: \(m)"
        case .toolFailed(let t, let m): "\(t) failed: \(m)"
        case .expression(let m): "expression: \(m)"
        case .dictionary(let m): "dictionary: \(m)"
        case .external(let c, let m): "external tool \(c): \(m)"
        case .model(let m): "model: \(m)"
        }
    }
}

/// The tools an agent may use, by name, in registration order.
public struct ToolRegistry: Sendable {
    /// Tools in the order the prompt lists them.
    public private(set) var tools: [any Tool]

    /// Creates a registry.
    public init(_ tools: [any Tool] = []) { self.tools = tools }

    /// Adds (or replaces, by name) a tool.
    public mutating func register(_ tool: any Tool) {
        if let i = tools.firstIndex(where: { $0.name == tool.name }) { tools[i] = tool } else { tools.append(tool) }
    }

    /// The tool called `name`.
    public subscript(name: String) -> (any Tool)? { tools.first { $0.name == name } }

    /// Tool names.
    public var names: [String] { tools.map(\.name) }

    /// Every tool wrapped with an injected latency (for benchmarks).
    public func withLatency(_ latency: InjectedLatency) -> ToolRegistry {
        ToolRegistry(tools.map { DelayedTool(base: $0, latency: latency) })
    }
}

/// Injected tool latency: `mean` seconds times a factor uniform in [1 - jitter, 1 + jitter],
/// drawn from a hash of (seed, tool, arguments), so a call costs the same whatever the order of
/// execution and for every method.
public struct InjectedLatency: Sendable, Equatable {
    /// Mean seconds per call.
    public var mean: Double
    /// Relative spread.
    public var jitter: Double
    /// Seed of the hash.
    public var seed: UInt64
    /// Per-tool overrides of the mean (e.g. a cheap `calc`).
    public var perTool: [String: Double]

    /// Creates a latency model.
    public init(mean: Double, jitter: Double = 0.2, seed: UInt64 = 7, perTool: [String: Double] = [:]) {
        self.mean = mean; self.jitter = jitter; self.seed = seed; self.perTool = perTool
    }

    /// Seconds for one call.
    public func seconds(tool: String, arguments: [TaskArgument]) -> Double {
        let m = perTool[tool] ?? mean
        guard m > 0 else { return 0 }
        var h = StableHash(seed: seed)
        h.add(tool)
        for a in arguments { h.add(a.description) }
        let u = Double(h.value >> 11) / Double(1 << 53)
        return m * (1 + jitter * (2 * u - 1))
    }
}

/// FNV-1a 64-bit followed by a SplitMix finaliser: stable across processes (unlike `Hasher`).
struct StableHash {
    var state: UInt64
    init(seed: UInt64) { state = 0xcbf2_9ce4_8422_2325 ^ seed }
    mutating func add(_ s: String) {
        for b in s.utf8 {
            state ^= UInt64(b)
            state = state &* 0x100_0000_01b3
        }
        state ^= 0xff
        state = state &* 0x100_0000_01b3
    }
    var value: UInt64 {
        var z = state &+ 0x9e37_79b9_7f4a_7c15
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// A tool with injected latency added before its result is returned.
public struct DelayedTool: Tool {
    /// The wrapped tool.
    public let base: any Tool
    /// The latency model.
    public let latency: InjectedLatency

    public var name: String { base.name }
    public var parameters: [ToolParameter] { base.parameters }
    public var returnType: String { base.returnType }
    public var rules: [String] { base.rules }

    public func call(_ arguments: [TaskArgument]) async throws -> Observation {
        let wait = latency.seconds(tool: name, arguments: arguments)
        async let result = base.call(arguments)
        if wait > 0 { try await Task.sleep(for: .seconds(wait)) }
        return try await result
    }

    public func stringify(_ arguments: [TaskArgument]) -> String { base.stringify(arguments) }
    public func argumentPattern(reference: String?) -> String { base.argumentPattern(reference: reference) }
}

/// A tool from a closure, for registering tools from Swift in one line.
public struct ClosureTool: Tool {
    public let name: String
    public let parameters: [ToolParameter]
    public let returnType: String
    public let rules: [String]
    let body: @Sendable ([TaskArgument]) async throws -> Observation

    /// Creates a tool that runs `body`.
    public init(name: String, parameters: [ToolParameter], returnType: String = "str", rules: [String] = [],
                body: @escaping @Sendable ([TaskArgument]) async throws -> Observation) {
        self.name = name; self.parameters = parameters; self.returnType = returnType; self.rules = rules; self.body = body
    }

    public func call(_ arguments: [TaskArgument]) async throws -> Observation { try await body(arguments) }
}
