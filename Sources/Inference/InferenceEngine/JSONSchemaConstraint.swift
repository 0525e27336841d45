// SPDX-License-Identifier: Apache-2.0

/// The JSON Schema subset constrained decoding understands.
public indirect enum JSONSchema: Sendable, Equatable {
    /// Any JSON value.
    case any
    /// Any JSON object.
    case anyObject
    /// An object whose keys appear in the declared order; optional ones may be skipped; no others.
    case object(properties: [(name: String, schema: JSONSchema)], required: Set<String>)
    /// An array of `items`.
    case array(items: JSONSchema)
    /// A string, optionally one of `values`.
    case string(values: [String]?)
    /// A number (`integer`: no fraction or exponent).
    case number(integer: Bool)
    case boolean
    case null
    /// Any one of the alternatives.
    case anyOf([JSONSchema])

    public static func == (a: JSONSchema, b: JSONSchema) -> Bool {
        switch (a, b) {
        case (.any, .any), (.anyObject, .anyObject), (.boolean, .boolean), (.null, .null): true
        case (.object(let p, let r), .object(let q, let s)): p.map(\.name) == q.map(\.name) && p.map(\.schema) == q.map(\.schema) && r == s
        case (.array(let x), .array(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.anyOf(let x), .anyOf(let y)): x == y
        default: false
        }
    }
}

/// Constrains output to one JSON value matching a ``JSONSchema`` (plus surrounding whitespace).
///
/// Validity of a prefix is decided by re-parsing it with a recursive-descent parser that reports
/// "complete", "valid so far" or "invalid"; runs of whitespace are capped so a model cannot stall.
public struct JSONSchemaConstraint: OutputConstraint {
    /// The schema.
    public let schema: JSONSchema
    /// Longest run of whitespace allowed between tokens.
    public let maxWhitespace: Int

    /// Creates a constraint.
    public init(_ schema: JSONSchema, maxWhitespace: Int = 12) {
        self.schema = schema
        self.maxWhitespace = maxWhitespace
    }

    enum Status { case ok, eof, fail }

    public func isValidPrefix(_ bytes: [UInt8]) -> Bool {
        var i = 0
        return parseDocument(bytes, &i) != .fail
    }

    public func isComplete(_ bytes: [UInt8]) -> Bool {
        var i = 0
        return parseDocument(bytes, &i) == .ok
    }

    public func isClosed(_ bytes: [UInt8]) -> Bool {
        guard let last = bytes.last, last == UInt8(ascii: "}") || last == UInt8(ascii: "]") || last == UInt8(ascii: "\"") else { return false }
        return isComplete(bytes)
    }

    private func parseDocument(_ b: [UInt8], _ i: inout Int) -> Status {
        if skipWhitespace(b, &i) == .fail { return .fail }
        if i == b.count { return .eof }
        let s = parse(schema, b, &i)
        guard s == .ok else { return s }
        var j = i
        if skipWhitespace(b, &j) == .fail { return .fail }
        return j == b.count ? .ok : .fail
    }

    private func skipWhitespace(_ b: [UInt8], _ i: inout Int) -> Status {
        var n = 0
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x09 || b[i] == 0x0D {
            i += 1
            n += 1
            if n > maxWhitespace { return .fail }
        }
        return .ok
    }

    private func expect(_ c: UInt8, _ b: [UInt8], _ i: inout Int) -> Status {
        guard i < b.count else { return .eof }
        guard b[i] == c else { return .fail }
        i += 1
        return .ok
    }

    private func parse(_ s: JSONSchema, _ b: [UInt8], _ i: inout Int) -> Status {
        guard i < b.count else { return .eof }
        switch s {
        case .any: return parseAny(b, &i)
        case .anyObject: return b[i] == UInt8(ascii: "{") ? parseAny(b, &i) : .fail
        case .null: return literal("null", b, &i)
        case .boolean: return b[i] == UInt8(ascii: "t") ? literal("true", b, &i) : literal("false", b, &i)
        case .number(let integer): return parseNumber(integer: integer, b, &i)
        case .string(let values):
            var content: [UInt8] = []
            // Enumerated strings take no escapes, so a prefix can never dead-end mid-escape.
            let st = parseString(b, &i, into: &content, escapes: values == nil)
            if let values {
                let candidates = values.map { Array($0.utf8) }
                if st == .ok { return candidates.contains(content) ? .ok : .fail }
                if st == .eof { return candidates.contains { $0.starts(with: content) } ? .eof : .fail }
            }
            return st
        case .array(let items):
            if case let st = expect(UInt8(ascii: "["), b, &i), st != .ok { return st }
            return parseList(closing: UInt8(ascii: "]"), b, &i) { parse(items, b, &$0) }
        case .object(let properties, let required):
            if case let st = expect(UInt8(ascii: "{"), b, &i), st != .ok { return st }
            var next = 0  // index of the next property that may appear
            var seen = Set<String>()
            return parseList(closing: UInt8(ascii: "}"), b, &i, mayClose: { required.isSubset(of: seen) }) { i in
                // Keys allowed here: the next one, or a later one if everything skipped is optional.
                var allowed: [Int] = []
                var k = next
                while k < properties.count {
                    allowed.append(k)
                    if required.contains(properties[k].name) { break }
                    k += 1
                }
                var key: [UInt8] = []
                let st = parseString(b, &i, into: &key, escapes: false)
                if st == .eof {
                    return allowed.contains { Array(properties[$0].name.utf8).starts(with: key) } ? .eof : .fail
                }
                guard st == .ok, let match = allowed.first(where: { Array(properties[$0].name.utf8) == key }) else { return .fail }
                if case let st = parseColon(b, &i), st != .ok { return st }
                if case let st = parse(properties[match].schema, b, &i), st != .ok { return st }
                seen.insert(properties[match].name)
                next = match + 1
                return .ok
            }
        case .anyOf(let options):
            var sawEOF = false
            for o in options {
                var j = i
                switch parse(o, b, &j) {
                case .ok:
                    i = j
                    return .ok
                case .eof: sawEOF = true
                case .fail: break
                }
            }
            return sawEOF ? .eof : .fail
        }
    }

    private func parseAny(_ b: [UInt8], _ i: inout Int) -> Status {
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            return parseList(closing: UInt8(ascii: "}"), b, &i) { i in
                var key: [UInt8] = []
                if case let st = parseString(b, &i, into: &key), st != .ok { return st }
                if case let st = parseColon(b, &i), st != .ok { return st }
                guard i < b.count else { return .eof }
                return parseAny(b, &i)
            }
        case UInt8(ascii: "["): return parse(.array(items: .any), b, &i)
        case UInt8(ascii: "\""):
            var sink: [UInt8] = []
            return parseString(b, &i, into: &sink)
        case UInt8(ascii: "t"): return literal("true", b, &i)
        case UInt8(ascii: "f"): return literal("false", b, &i)
        case UInt8(ascii: "n"): return literal("null", b, &i)
        default: return parseNumber(integer: false, b, &i)
        }
    }

    /// The rest of a comma-separated list whose opening bracket is consumed, through `closing`.
    /// `element` parses one element at `i` (white space before it skipped); `mayClose` says whether
    /// the list may end here (an object still missing a required key may not).
    private func parseList(closing: UInt8, _ b: [UInt8], _ i: inout Int, mayClose: () -> Bool = { true },
                           element: (inout Int) -> Status) -> Status {
        var first = true
        while true {
            if skipWhitespace(b, &i) == .fail { return .fail }
            guard i < b.count else { return .eof }
            if b[i] == closing {
                guard mayClose() else { return .fail }
                i += 1
                return .ok
            }
            if !first {
                if case let st = expect(UInt8(ascii: ","), b, &i), st != .ok { return st }
                if skipWhitespace(b, &i) == .fail { return .fail }
            }
            if case let st = element(&i), st != .ok { return st }
            first = false
        }
    }

    /// `:` between an object key and its value, with the white space around it.
    private func parseColon(_ b: [UInt8], _ i: inout Int) -> Status {
        if skipWhitespace(b, &i) == .fail { return .fail }
        if case let st = expect(UInt8(ascii: ":"), b, &i), st != .ok { return st }
        return skipWhitespace(b, &i) == .fail ? .fail : .ok
    }

    private func literal(_ word: String, _ b: [UInt8], _ i: inout Int) -> Status {
        for c in word.utf8 {
            guard i < b.count else { return .eof }
            guard b[i] == c else { return .fail }
            i += 1
        }
        return .ok
    }

    private func parseString(_ b: [UInt8], _ i: inout Int, into content: inout [UInt8], escapes: Bool = true) -> Status {
        if case let st = expect(UInt8(ascii: "\""), b, &i), st != .ok { return st }
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return .ok
            }
            if c < 0x20 { return .fail }
            if c == UInt8(ascii: "\\") {
                if !escapes { return .fail }
                guard i + 1 < b.count else { return .eof }
                let e = b[i + 1]
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): content.append(e)
                case UInt8(ascii: "n"): content.append(0x0A)
                case UInt8(ascii: "t"): content.append(0x09)
                case UInt8(ascii: "r"): content.append(0x0D)
                case UInt8(ascii: "b"), UInt8(ascii: "f"): content.append(0x20)
                case UInt8(ascii: "u"):
                    var k = 0
                    while k < 4 {
                        guard i + 2 + k < b.count else { return .eof }
                        let h = b[i + 2 + k]
                        let isHex = (h >= 0x30 && h <= 0x39) || (h | 0x20 >= 0x61 && h | 0x20 <= 0x66)
                        if !isHex { return .fail }
                        k += 1
                    }
                    content.append(UInt8(ascii: "?"))
                    i += 6
                    continue
                default: return .fail
                }
                i += 2
                continue
            }
            content.append(c)
            i += 1
        }
        return .eof
    }

    private func parseNumber(integer: Bool, _ b: [UInt8], _ i: inout Int) -> Status {
        func digit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        if b[i] == UInt8(ascii: "-") {
            i += 1
            guard i < b.count else { return .eof }
        }
        guard digit(b[i]) else { return .fail }
        if b[i] == UInt8(ascii: "0") {
            i += 1
        } else {
            while i < b.count && digit(b[i]) { i += 1 }
        }
        guard i < b.count else { return .eof }
        if !integer && b[i] == UInt8(ascii: ".") {
            i += 1
            guard i < b.count else { return .eof }
            guard digit(b[i]) else { return .fail }
            while i < b.count && digit(b[i]) { i += 1 }
            guard i < b.count else { return .eof }
        }
        if !integer && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
            i += 1
            guard i < b.count else { return .eof }
            if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
            guard i < b.count else { return .eof }
            guard digit(b[i]) else { return .fail }
            while i < b.count && digit(b[i]) { i += 1 }
            guard i < b.count else { return .eof }
        }
        return .ok
    }
}
