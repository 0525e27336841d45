// SPDX-License-Identifier: Apache-2.0

/// Constrains output to match a regular expression (whole output), checked byte by byte with a
/// Thompson NFA: a prefix is valid while some NFA state is alive.
///
/// Syntax: literals, `.`, `[...]` classes with ranges and `^` negation (ASCII), `\d \w \s` and
/// their negations, escapes such as `\.`, groups `( )` and `(?: )`, `|`, and `* + ? {m} {m,} {m,n}`.
public struct RegexConstraint: OutputConstraint {
    indirect enum Node {
        case bytes(ByteSet)
        case concat([Node])
        case alternation([Node])
        case repeated(Node, min: Int, max: Int?)
        case empty
    }

    struct ByteSet {
        var bits = [UInt64](repeating: 0, count: 4)
        mutating func insert(_ b: UInt8) { bits[Int(b >> 6)] |= 1 << UInt64(b & 63) }
        mutating func insert(_ r: ClosedRange<UInt8>) { for b in r { insert(b) } }
        func contains(_ b: UInt8) -> Bool { bits[Int(b >> 6)] & (1 << UInt64(b & 63)) != 0 }
        func inverted() -> ByteSet { var s = self; for i in 0..<4 { s.bits[i] = ~s.bits[i] }; return s }
    }

    enum State {
        case byte(ByteSet, next: Int)
        case split(Int, Int)
        case jump(Int)
        case match
    }

    /// The pattern.
    public let pattern: String
    private let states: [State]
    private let start: Int

    /// Errors in a pattern.
    public struct SyntaxError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Compiles `pattern`.
    public init(_ pattern: String) throws {
        self.pattern = pattern
        var parser = Parser(bytes: Array(pattern.utf8))
        let node = try parser.parseAlternation()
        guard parser.i == parser.bytes.count else { throw SyntaxError(description: "unexpected ')' at \(parser.i) in \(pattern)") }
        var builder = Builder()
        let matchState = builder.add(.match)
        start = builder.compile(node, next: matchState)
        states = builder.states
    }

    struct Parser {
        let bytes: [UInt8]
        var i = 0

        mutating func parseAlternation() throws -> Node {
            var options = [try parseConcat()]
            while i < bytes.count && bytes[i] == UInt8(ascii: "|") {
                i += 1
                options.append(try parseConcat())
            }
            return options.count == 1 ? options[0] : .alternation(options)
        }

        mutating func parseConcat() throws -> Node {
            var items: [Node] = []
            while i < bytes.count && bytes[i] != UInt8(ascii: "|") && bytes[i] != UInt8(ascii: ")") {
                var atom = try parseAtom()
                quantifiers: while i < bytes.count {
                    switch bytes[i] {
                    case UInt8(ascii: "*"): atom = .repeated(atom, min: 0, max: nil); i += 1
                    case UInt8(ascii: "+"): atom = .repeated(atom, min: 1, max: nil); i += 1
                    case UInt8(ascii: "?"): atom = .repeated(atom, min: 0, max: 1); i += 1
                    case UInt8(ascii: "{"):
                        guard let close = bytes[i...].firstIndex(of: UInt8(ascii: "}")) else { throw SyntaxError(description: "unclosed {") }
                        let body = String(decoding: bytes[(i + 1)..<close], as: UTF8.self)
                        let parts = body.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                        guard let lo = Int(parts[0]), parts.count <= 2, lo <= 1000 else { throw SyntaxError(description: "bad repetition {\(body)}") }
                        let hi: Int? = parts.count == 1 ? lo : (parts[1].isEmpty ? nil : Int(parts[1]))
                        if let hi, hi < lo || hi > 1000 { throw SyntaxError(description: "bad repetition {\(body)}") }
                        atom = .repeated(atom, min: lo, max: hi)
                        i = close + 1
                    default: break quantifiers
                    }
                }
                items.append(atom)
            }
            return items.count == 1 ? items[0] : (items.isEmpty ? .empty : .concat(items))
        }

        mutating func parseAtom() throws -> Node {
            let c = bytes[i]
            i += 1
            switch c {
            case UInt8(ascii: "("):
                if i + 1 < bytes.count && bytes[i] == UInt8(ascii: "?") && bytes[i + 1] == UInt8(ascii: ":") { i += 2 }
                let inner = try parseAlternation()
                guard i < bytes.count && bytes[i] == UInt8(ascii: ")") else { throw SyntaxError(description: "unclosed (") }
                i += 1
                return inner
            case UInt8(ascii: "."):
                var s = ByteSet()
                s.insert(0...255)
                return .bytes(s)
            case UInt8(ascii: "["): return .bytes(try parseClass())
            case UInt8(ascii: "\\"): return .bytes(try parseEscape())
            case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"): throw SyntaxError(description: "nothing to repeat at \(i - 1)")
            default:
                var s = ByteSet()
                s.insert(c)
                return .bytes(s)
            }
        }

        mutating func parseEscape() throws -> ByteSet {
            guard i < bytes.count else { throw SyntaxError(description: "trailing backslash") }
            let e = bytes[i]
            i += 1
            var s = ByteSet()
            switch e {
            case UInt8(ascii: "d"), UInt8(ascii: "D"): s.insert(UInt8(ascii: "0")...UInt8(ascii: "9"))
            case UInt8(ascii: "w"), UInt8(ascii: "W"):
                s.insert(UInt8(ascii: "a")...UInt8(ascii: "z")); s.insert(UInt8(ascii: "A")...UInt8(ascii: "Z"))
                s.insert(UInt8(ascii: "0")...UInt8(ascii: "9")); s.insert(UInt8(ascii: "_"))
            case UInt8(ascii: "s"), UInt8(ascii: "S"): for b: UInt8 in [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C] { s.insert(b) }
            case UInt8(ascii: "n"): s.insert(0x0A)
            case UInt8(ascii: "t"): s.insert(0x09)
            default: s.insert(e)
            }
            return (e == UInt8(ascii: "D") || e == UInt8(ascii: "W") || e == UInt8(ascii: "S")) ? s.inverted() : s
        }

        mutating func parseClass() throws -> ByteSet {
            var s = ByteSet()
            var negate = false
            if i < bytes.count && bytes[i] == UInt8(ascii: "^") { negate = true; i += 1 }
            var first = true
            while i < bytes.count && (bytes[i] != UInt8(ascii: "]") || first) {
                first = false
                let lo = bytes[i]
                i += 1
                if lo == UInt8(ascii: "\\") {
                    let set = try parseEscape()
                    for b in 0...255 where set.contains(UInt8(b)) { s.insert(UInt8(b)) }
                    continue
                }
                if i + 1 < bytes.count && bytes[i] == UInt8(ascii: "-") && bytes[i + 1] != UInt8(ascii: "]") {
                    var hi = bytes[i + 1]
                    i += 2
                    if hi == UInt8(ascii: "\\") && i < bytes.count { hi = bytes[i]; i += 1 }
                    guard lo <= hi else { throw SyntaxError(description: "bad range in class") }
                    s.insert(lo...hi)
                    continue
                }
                s.insert(lo)
            }
            guard i < bytes.count else { throw SyntaxError(description: "unclosed [") }
            i += 1
            return negate ? s.inverted() : s
        }
    }

    struct Builder {
        var states: [State] = []
        mutating func add(_ s: State) -> Int {
            states.append(s)
            return states.count - 1
        }

        /// Compiles `node` so that it continues at `next`; returns its entry state.
        mutating func compile(_ node: Node, next: Int) -> Int {
            switch node {
            case .empty: return next
            case .bytes(let set): return add(.byte(set, next: next))
            case .concat(let items):
                var entry = next
                for item in items.reversed() { entry = compile(item, next: entry) }
                return entry
            case .alternation(let options):
                var entry = compile(options.last!, next: next)
                for o in options.dropLast().reversed() { entry = add(.split(compile(o, next: next), entry)) }
                return entry
            case .repeated(let inner, let lo, let hi):
                var entry = next
                if let hi {
                    // Up to hi - lo optional copies, each able to skip to the end.
                    for _ in 0..<(hi - lo) {
                        let body = compile(inner, next: entry)
                        entry = add(.split(body, next))
                    }
                } else {
                    let loop = add(.jump(-1))
                    let body = compile(inner, next: loop)
                    states[loop] = .split(body, next)
                    entry = loop
                }
                for _ in 0..<lo { entry = compile(inner, next: entry) }
                return entry
            }
        }
    }

    private func closure(_ set: [Int]) -> Set<Int> {
        var seen = Set<Int>()
        var stack = set
        while let s = stack.popLast() {
            guard seen.insert(s).inserted else { continue }
            switch states[s] {
            case .split(let a, let b): stack.append(a); stack.append(b)
            case .jump(let a): stack.append(a)
            default: break
            }
        }
        return seen
    }

    private func run(_ bytes: [UInt8]) -> Set<Int> {
        var current = closure([start])
        for b in bytes {
            var next: [Int] = []
            for s in current { if case .byte(let set, let n) = states[s], set.contains(b) { next.append(n) } }
            if next.isEmpty { return [] }
            current = closure(next)
        }
        return current
    }

    public func isValidPrefix(_ bytes: [UInt8]) -> Bool { !run(bytes).isEmpty }

    public func isComplete(_ bytes: [UInt8]) -> Bool {
        run(bytes).contains { if case .match = states[$0] { return true } else { return false } }
    }

    public func isClosed(_ bytes: [UInt8]) -> Bool {
        let set = run(bytes)
        let complete = set.contains { if case .match = states[$0] { return true } else { return false } }
        let extendable = set.contains { if case .byte = states[$0] { return true } else { return false } }
        return complete && !extendable
    }
}
