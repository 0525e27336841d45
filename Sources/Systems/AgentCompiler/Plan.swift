// SPDX-License-Identifier: Apache-2.0

import Foundation

/// One step of a plan: `3. math("years between", ["$1", "$2"])` or `4. join()`.
public struct PlanTask: Sendable, Equatable, Codable {
    /// The task's number in the plan (strictly increasing, not necessarily contiguous).
    public let index: Int
    /// The tool name, or `join`.
    public let name: String
    /// Parsed arguments, references still unresolved (`"$1"`).
    public let arguments: [TaskArgument]
    /// The argument text as written between the parentheses.
    public let rawArguments: String
    /// Earlier tasks this one waits for: for a tool call, every earlier *existing* task referenced
    /// in the raw arguments; for `join`, every earlier task.
    public let dependencies: [Int]
    /// The `Thought:` line written just before it, if any.
    public let thought: String?

    /// Whether this is the plan's `join()`.
    public var isJoin: Bool { name == "join" }

    /// Creates a task.
    public init(index: Int, name: String, arguments: [TaskArgument], rawArguments: String, dependencies: [Int], thought: String?) {
        self.index = index; self.name = name; self.arguments = arguments; self.rawArguments = rawArguments
        self.dependencies = dependencies; self.thought = thought
    }

    /// The task as a plan line: `2. search("Fortran")`.
    public var line: String { "\(index). \(name)(\(rawArguments))" }
}

/// Something wrong with a plan line. The parser records it, skips the line and goes on, so one bad
/// line costs one task rather than the whole plan.
public enum PlanIssue: Sendable, Equatable, Codable, CustomStringConvertible {
    /// The line is neither a thought nor `N. tool(args)`.
    case malformed(String)
    /// The line calls a tool that is not registered.
    case unknownTool(name: String, line: String)
    /// The index is not greater than the previous one.
    case nonIncreasingIndex(Int, line: String)
    /// A line after the plan's `join()` (a second join, or more tasks).
    case afterJoin(String)
    /// `$n` names the task itself, a later task or a task that does not exist; kept verbatim.
    case unresolvedReference(task: Int, reference: Int)

    public var description: String {
        switch self {
        case .malformed(let l): "malformed line: \(l)"
        case .unknownTool(let n, let l): "unknown tool '\(n)': \(l)"
        case .nonIncreasingIndex(let i, let l): "index \(i) does not increase: \(l)"
        case .afterJoin(let l): "line after join(): \(l)"
        case .unresolvedReference(let t, let r): "task \(t) references $\(r), which is not an earlier task"
        }
    }
}

/// Parses the numbered-plan grammar incrementally: feed it text as the model streams it, and every
/// task comes out as soon as its line is complete (a newline, `<END_OF_PLAN>` or the end of input).
///
/// ```
/// plan    := { (thought | action) "\n" }
/// thought := "Thought: " text
/// action  := INT ". " IDENT "(" ARGS ")" [ ws "#" WORD ]     ARGS runs to the last ")" on the line
/// join    := INT ". join()" [ "<END_OF_PLAN>" ]
/// ref     := "$" INT | "${" INT "}"
/// ```
public struct StreamingPlanParser: Sendable {
    /// The end marker the planner writes after `join()`.
    public static let endOfPlan = "<END_OF_PLAN>"

    let toolNames: Set<String>
    var buffer = ""
    var pendingThought: String?
    var lastIndex = 0
    var known: Set<Int> = []
    var tail = ""
    /// Tasks emitted so far.
    public private(set) var tasks: [PlanTask] = []
    /// Problems found so far.
    public private(set) var issues: [PlanIssue] = []
    /// Whether the plan is over (`join()` or `<END_OF_PLAN>` seen, or ``finish()`` called).
    public private(set) var isFinished = false
    /// Whether the plan ended with a `join()`.
    public private(set) var sawJoin = false

    /// A parser accepting calls to `toolNames` (and `join`).
    public init(toolNames: some Sequence<String>) { self.toolNames = Set(toolNames) }

    /// Adds streamed text; returns the tasks whose lines it completed.
    public mutating func feed(_ chunk: String) -> [PlanTask] {
        guard !isFinished else {
            tail += chunk  // judged at finish(): a lone end marker after `join()\n` is fine
            return []
        }
        buffer += chunk
        var out: [PlanTask] = []
        while true {
            let newline = buffer.firstIndex(of: "\n")
            let marker = buffer.range(of: Self.endOfPlan)
            if let marker, newline.map({ marker.lowerBound < $0 }) ?? true {
                let line = String(buffer[..<marker.lowerBound])
                buffer = String(buffer[marker.upperBound...])
                if let t = parseLine(line) { out.append(t) }
                if !isFinished {
                    isFinished = true
                }
                if !buffer.allSatisfy(\.isWhitespace) { issues.append(.afterJoin(buffer)) }
                buffer = ""
                return out
            }
            guard let newline else { return out }
            let line = String(buffer[..<newline])
            buffer = String(buffer[buffer.index(after: newline)...])
            if isFinished {
                if !line.allSatisfy(\.isWhitespace) { issues.append(.afterJoin(line)) }
                continue
            }
            if let t = parseLine(line) { out.append(t) }
        }
    }

    /// Ends the input: parses a last unterminated line.
    public mutating func finish() -> [PlanTask] {
        defer {
            isFinished = true
            buffer = ""
            tail = ""
        }
        if isFinished {
            let rest = (buffer + tail).replacingOccurrences(of: Self.endOfPlan, with: "").trimmingCharacters(in: .whitespacesAndNewlines)
            if !rest.isEmpty { issues.append(.afterJoin(rest)) }
            return []
        }
        return parseLine(buffer).map { [$0] } ?? []
    }

    /// Parses a whole plan at once.
    public static func parse(_ text: String, toolNames: some Sequence<String>) -> (tasks: [PlanTask], issues: [PlanIssue]) {
        var p = StreamingPlanParser(toolNames: toolNames)
        _ = p.feed(text)
        _ = p.finish()
        return (p.tasks, p.issues)
    }

    mutating func parseLine(_ raw: String) -> PlanTask? {
        let line = raw.trimmingCharacters(in: .whitespaces)
        if line.isEmpty { return nil }
        if isFinished {
            issues.append(.afterJoin(line))
            return nil
        }
        if line.hasPrefix("Thought:") {
            pendingThought = String(line.dropFirst(8)).trimmingCharacters(in: .whitespaces)
            return nil
        }
        guard case let (index, name, args)? = Self.splitAction(line) else {
            issues.append(.malformed(line))
            return nil
        }
        guard index > lastIndex else {
            issues.append(.nonIncreasingIndex(index, line: line))
            return nil
        }
        let thought = pendingThought
        if name == "join" {
            let task = PlanTask(index: index, name: "join", arguments: [], rawArguments: args,
                                dependencies: known.sorted(), thought: thought)
            lastIndex = index
            pendingThought = nil
            tasks.append(task)
            isFinished = true
            sawJoin = true
            return task
        }
        guard toolNames.contains(name) else {
            issues.append(.unknownTool(name: name, line: line))
            return nil
        }
        var deps: Set<Int> = []
        for r in References.find(in: args) {
            if r < index && known.contains(r) { deps.insert(r) } else { issues.append(.unresolvedReference(task: index, reference: r)) }
        }
        let task = PlanTask(index: index, name: name, arguments: LiteralArguments.parse(args), rawArguments: args,
                            dependencies: deps.sorted(), thought: thought)
        lastIndex = index
        known.insert(index)
        pendingThought = nil
        tasks.append(task)
        return task
    }

    /// `12. search("x")  #E3` -> (12, "search", "\"x\""); ARGS run to the last `)` of the line.
    static func splitAction(_ line: String) -> (Int, String, String)? {
        let chars = Array(line)
        var i = 0
        while i < chars.count, chars[i].isASCII, chars[i].isNumber { i += 1 }
        guard i > 0, i < chars.count - 1, chars[i] == ".", chars[i + 1] == " ", let index = Int(String(chars[0..<i])) else { return nil }
        i += 2
        let nameStart = i
        while i < chars.count, chars[i].isASCII, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" { i += 1 }
        guard i > nameStart, i < chars.count, chars[i] == "(" else { return nil }
        let name = String(chars[nameStart..<i])
        guard let close = chars.lastIndex(of: ")"), close > i else { return nil }
        // Only an optional `#word` comment may follow the closing parenthesis.
        let tail = String(chars[(close + 1)...]).trimmingCharacters(in: .whitespaces)
        if !tail.isEmpty && !(tail.hasPrefix("#") && tail.dropFirst().allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }) { return nil }
        return (index, name, String(chars[(i + 1)..<close]))
    }
}

/// `$n` / `${n}` references.
public enum References {
    /// Every reference in `text`, in order of appearance (maximal munch: `$12` is 12, never 1).
    public static func find(in text: String) -> [Int] {
        var out: [Int] = []
        scan(text) { n, _ in
            out.append(n)
            return nil
        }
        return out
    }

    /// Replaces each reference whose number `value(n)` knows; others stay verbatim.
    ///
    /// Equivalent to the paper's rule of replacing dependencies in descending order (`$12` before
    /// `$1`), and also right when `$12` is not a dependency at all.
    public static func substitute(_ text: String, _ value: (Int) -> String?) -> String {
        scan(text) { n, _ in value(n) }
    }

    @discardableResult
    static func scan(_ text: String, _ replace: (Int, String) -> String?) -> String {
        let c = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < c.count {
            if c[i] == "$" {
                var j = i + 1
                let braced = j < c.count && c[j] == "{"
                if braced { j += 1 }
                let start = j
                while j < c.count, c[j].properties.numericType == .decimal, c[j].isASCII { j += 1 }
                let digits = String(String.UnicodeScalarView(c[start..<j]))
                let closed = !braced || (j < c.count && c[j] == "}")
                if j > start, closed, let n = Int(digits) {
                    let end = braced ? j + 1 : j
                    let original = String(String.UnicodeScalarView(c[i..<end]))
                    if let r = replace(n, original) { out.append(contentsOf: r.unicodeScalars) } else { out.append(contentsOf: original.unicodeScalars) }
                    i = end
                    continue
                }
            }
            out.append(c[i])
            i += 1
        }
        return String(out)
    }
}

/// The Python-literal subset of plan arguments: `"a", 'b', 3.5, ["$1", "$2"]`. Text that is not a
/// valid literal list (e.g. `search(Austin Powers)`) becomes one string argument, as in the paper.
public enum LiteralArguments {
    /// The arguments written between a task's parentheses.
    public static func parse(_ raw: String) -> [TaskArgument] {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return [] }
        var p = Cursor(chars: Array(trimmed.unicodeScalars))
        var out: [TaskArgument] = []
        while true {
            p.skipSpaces()
            guard let v = p.value() else { return [.string(trimmed)] }
            out.append(v)
            p.skipSpaces()
            if p.atEnd { return out }
            guard p.eat(",") else { return [.string(trimmed)] }
            p.skipSpaces()
            if p.atEnd { return out }  // trailing comma
        }
    }

    struct Cursor {
        let chars: [Unicode.Scalar]
        var i = 0
        var atEnd: Bool { i >= chars.count }
        mutating func skipSpaces() { while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 } }
        mutating func eat(_ s: Unicode.Scalar) -> Bool {
            if i < chars.count, chars[i] == s { i += 1; return true }
            return false
        }

        mutating func value() -> TaskArgument? {
            guard i < chars.count else { return nil }
            let c = chars[i]
            if c == "\"" || c == "'" { return string(quote: c) }
            if c == "[" || c == "(" {
                let close: Unicode.Scalar = c == "[" ? "]" : ")"
                i += 1
                var items: [TaskArgument] = []
                while true {
                    skipSpaces()
                    if eat(close) { return .list(items) }
                    guard let v = value() else { return nil }
                    items.append(v)
                    skipSpaces()
                    if eat(close) { return .list(items) }
                    guard eat(",") else { return nil }
                }
            }
            if c == "$" {  // a bare reference: $1 or ${1}
                let start = i
                i += 1
                _ = eat("{")
                let d = i
                while i < chars.count, chars[i].properties.numericType == .decimal { i += 1 }
                guard i > d else { return nil }
                _ = eat("}")
                return .string(String(String.UnicodeScalarView(chars[start..<i])))
            }
            let start = i
            while i < chars.count, "+-.0123456789eE".unicodeScalars.contains(chars[i]) { i += 1 }
            guard i > start, let d = Double(String(String.UnicodeScalarView(chars[start..<i]))) else { return nil }
            return .number(d)
        }

        mutating func string(quote: Unicode.Scalar) -> TaskArgument? {
            i += 1
            var s = String.UnicodeScalarView()
            while i < chars.count {
                let c = chars[i]
                if c == "\\", i + 1 < chars.count {
                    let n = chars[i + 1]
                    switch n {
                    case "n": s.append("\n")
                    case "t": s.append("\t")
                    default: s.append(n)
                    }
                    i += 2
                    continue
                }
                if c == quote {
                    i += 1
                    return .string(String(s))
                }
                s.append(c)
                i += 1
            }
            return nil
        }
    }
}

extension TaskArgument {
    /// Replaces references to tasks in `observations`. An argument that is exactly one reference
    /// takes the observation's typed value; references inside longer strings become its text.
    public func substituted(_ observations: [Int: Observation]) -> TaskArgument {
        switch self {
        case .number: return self
        case .list(let l): return .list(l.map { $0.substituted(observations) })
        case .string(let s):
            let refs = References.find(in: s)
            if refs.count == 1, let o = observations[refs[0]], s == "$\(refs[0])" || s == "${\(refs[0])}" {
                return o.argumentValue
            }
            return .string(References.substitute(s) { observations[$0]?.description })
        }
    }
}
