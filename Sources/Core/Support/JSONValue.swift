// SPDX-License-Identifier: Apache-2.0

import Foundation

/// Any JSON value (tool parameter schemas, `response_format`, free-form fields).
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The member `key` of an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members, if this is an object.
    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The value as JSON text with sorted keys (one line, or indented when `pretty`).
    public func jsonText(pretty: Bool = false) -> String {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a JSONValue cannot fail: every case is a plain JSON value (non-finite numbers become null).
        return String(decoding: (try? e.encode(self)) ?? Data("null".utf8), as: UTF8.self)
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue {
    /// A number, or `.null` for `nil`, NaN and infinities (JSON has no such numbers).
    public init(_ value: Double?) {
        guard let value, value.isFinite else { self = .null; return }
        self = .number(value)
    }

    /// An integer as a number.
    public init(_ value: Int) { self = .number(Double(value)) }

    /// A string.
    public init(_ value: String) { self = .string(value) }

    /// A Boolean.
    public init(_ value: Bool) { self = .bool(value) }

    /// A `Float` as a number (`.null` when not finite).
    public init(_ value: Float) { self.init(Double(value)) }

    /// An array of integers.
    public init(_ values: [Int]) { self = .array(values.map { .number(Double($0)) }) }

    /// An array of numbers (non-finite ones become `.null`).
    public init(_ values: [Double]) { self = .array(values.map { JSONValue($0) }) }

    /// An array of strings.
    public init(_ values: [String]) { self = .array(values.map { .string($0) }) }

    /// An array of Booleans.
    public init(_ values: [Bool]) { self = .array(values.map { .bool($0) }) }

    /// The number, if this is one.
    public var numberValue: Double? {
        if case .number(let d) = self { return d }
        return nil
    }

    /// The Boolean, if this is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// Any `Encodable` value as a JSON tree (through `JSONEncoder`); NaN and infinities, which JSON
    /// cannot hold, become `null`.
    public init(encoding value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: JSONValue.nonFinite, negativeInfinity: JSONValue.nonFinite, nan: JSONValue.nonFinite)
        self = try JSONDecoder().decode(JSONValue.self, from: encoder.encode(value)).nullingNonFinite()
    }

    /// A string no real value holds (it starts with NUL), standing for a non-finite number in transit.
    private static let nonFinite = "\u{0}non-finite"

    private func nullingNonFinite() -> JSONValue {
        switch self {
        case .string(JSONValue.nonFinite): .null
        case .array(let a): .array(a.map { $0.nullingNonFinite() })
        case .object(let o): .object(o.mapValues { $0.nullingNonFinite() })
        default: self
        }
    }
}
