// SPDX-License-Identifier: Apache-2.0

import Foundation

/// A safe arithmetic evaluator (our replacement for the paper's numexpr): numbers, `+ - * / %`,
/// `**` / `^`, unary signs, parentheses, and a closed set of functions (`abs min max round floor
/// ceil sqrt log exp`) and constants (`pi e`). Nothing else is accepted: no names, attributes,
/// strings or calls outside the list, so a model-written expression can never run code.
///
/// Limits: at most 512 characters and 64 levels of nesting; results must be finite.
public enum SafeExpression {
    /// Evaluates `text`.
    public static func evaluate(_ text: String) throws(AgentError) -> Double {
        guard text.utf8.count <= 512 else { throw .expression("longer than 512 characters") }
        var p = Parser(tokens: try tokenize(text))
        let v = try p.expression(depth: 0)
        guard p.i == p.tokens.count else { throw .expression("unexpected '\(p.tokens[p.i])' in \(text)") }
        guard v.isFinite else { throw .expression("result is not finite: \(text)") }
        return v
    }

    enum Token: Equatable, CustomStringConvertible {
        case number(Double), name(String), op(String), open, close, comma
        var description: String {
            switch self {
            case .number(let d): "\(d)"
            case .name(let n): n
            case .op(let o): o
            case .open: "("
            case .close: ")"
            case .comma: ","
            }
        }
    }

    static func tokenize(_ text: String) throws(AgentError) -> [Token] {
        let c = Array(text.unicodeScalars)
        var out: [Token] = []
        var i = 0
        while i < c.count {
            let ch = c[i]
            if ch == " " || ch == "\t" || ch == "\n" { i += 1; continue }
            if ("0"..."9").contains(ch) || ch == "." {
                let s = i
                while i < c.count, ("0"..."9").contains(c[i]) || c[i] == "." || c[i] == "_" { i += 1 }
                if i < c.count, c[i] == "e" || c[i] == "E", i + 1 < c.count, ("0"..."9").contains(c[i + 1]) || ((c[i + 1] == "-" || c[i + 1] == "+") && i + 2 < c.count && ("0"..."9").contains(c[i + 2])) {
                    i += 2
                    while i < c.count, ("0"..."9").contains(c[i]) { i += 1 }
                }
                let lit = String(String.UnicodeScalarView(c[s..<i])).replacingOccurrences(of: "_", with: "")
                guard let d = Double(lit) else { throw .expression("bad number '\(lit)'") }
                out.append(.number(d))
                continue
            }
            if ch.properties.isAlphabetic || ch == "_" {
                let s = i
                while i < c.count, c[i].properties.isAlphabetic || c[i] == "_" || ("0"..."9").contains(c[i]) { i += 1 }
                out.append(.name(String(String.UnicodeScalarView(c[s..<i])).lowercased()))
                continue
            }
            switch ch {
            case "(": out.append(.open)
            case ")": out.append(.close)
            case ",": out.append(.comma)
            case "*":
                if i + 1 < c.count, c[i + 1] == "*" { out.append(.op("^")); i += 1 } else { out.append(.op("*")) }
            case "^", "+", "-", "/", "%": out.append(.op(String(ch)))
            default: throw .expression("character '\(ch)' is not allowed")
            }
            i += 1
        }
        return out
    }

    struct Parser {
        let tokens: [Token]
        var i = 0

        mutating func expression(depth: Int) throws(AgentError) -> Double {
            guard depth < 64 else { throw .expression("nested too deeply") }
            var v = try term(depth: depth)
            while i < tokens.count, case .op(let o) = tokens[i], o == "+" || o == "-" {
                i += 1
                let r = try term(depth: depth)
                v = o == "+" ? v + r : v - r
            }
            return v
        }

        mutating func term(depth: Int) throws(AgentError) -> Double {
            var v = try unary(depth: depth)
            while i < tokens.count, case .op(let o) = tokens[i], o == "*" || o == "/" || o == "%" {
                i += 1
                let r = try unary(depth: depth)
                switch o {
                case "*": v *= r
                case "/":
                    guard r != 0 else { throw .expression("division by zero") }
                    v /= r
                default:
                    guard r != 0 else { throw .expression("modulo by zero") }
                    v = v - r * (v / r).rounded(.down)  // Python's sign rule
                }
            }
            return v
        }

        mutating func unary(depth: Int) throws(AgentError) -> Double {
            if i < tokens.count, case .op(let o) = tokens[i], o == "-" || o == "+" {
                i += 1
                guard depth < 64 else { throw .expression("nested too deeply") }
                let v = try unary(depth: depth + 1)
                return o == "-" ? -v : v
            }
            return try power(depth: depth)
        }

        mutating func power(depth: Int) throws(AgentError) -> Double {
            let base = try primary(depth: depth)
            if i < tokens.count, case .op("^") = tokens[i] {
                i += 1
                let e = try unary(depth: depth + 1)  // right associative, binds tighter than unary on the left
                guard abs(e) <= 1024 else { throw .expression("exponent \(e) is too large") }
                return Foundation.pow(base, e)
            }
            return base
        }

        mutating func primary(depth: Int) throws(AgentError) -> Double {
            guard i < tokens.count else { throw .expression("unexpected end") }
            let t = tokens[i]
            i += 1
            switch t {
            case .number(let d): return d
            case .open:
                let v = try expression(depth: depth + 1)
                guard i < tokens.count, tokens[i] == .close else { throw .expression("missing ')'") }
                i += 1
                return v
            case .name(let n):
                if n == "pi" { return Double.pi }
                if n == "e" { return M_E }
                guard i < tokens.count, tokens[i] == .open else { throw .expression("unknown name '\(n)'") }
                i += 1
                var args: [Double] = []
                if i < tokens.count, tokens[i] == .close {
                    i += 1
                } else {
                    while true {
                        args.append(try expression(depth: depth + 1))
                        guard i < tokens.count else { throw .expression("missing ')'") }
                        if tokens[i] == .close { i += 1; break }
                        guard tokens[i] == .comma else { throw .expression("expected ',' in \(n)()") }
                        i += 1
                    }
                }
                return try call(n, args)
            default:
                throw .expression("unexpected '\(t)'")
            }
        }

        func call(_ name: String, _ a: [Double]) throws(AgentError) -> Double {
            func one() throws(AgentError) -> Double {
                guard a.count == 1 else { throw .expression("\(name)() takes one argument") }
                return a[0]
            }
            switch name {
            case "abs": return abs(try one())
            case "sqrt":
                let x = try one()
                guard x >= 0 else { throw .expression("sqrt of a negative number") }
                return x.squareRoot()
            case "floor": return try one().rounded(.down)
            case "ceil": return try one().rounded(.up)
            case "exp": return Foundation.exp(try one())
            case "log":
                let x = try one()
                guard x > 0 else { throw .expression("log of a non-positive number") }
                return Foundation.log(x)
            case "round":
                guard a.count == 1 || a.count == 2 else { throw .expression("round() takes one or two arguments") }
                let scale = a.count == 2 ? Foundation.pow(10, a[1].rounded()) : 1
                return (a[0] * scale).rounded(.toNearestOrEven) / scale
            case "min", "max":
                guard !a.isEmpty else { throw .expression("\(name)() needs arguments") }
                return name == "min" ? a.min()! : a.max()!
            default:
                throw .expression("function '\(name)' is not allowed")
            }
        }
    }
}
