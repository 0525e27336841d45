// SPDX-License-Identifier: Apache-2.0

/// A field that is either one string or a list of strings (`stop`, `prompt`).
public enum StringOrArray: Sendable, Equatable, Codable {
    case one(String)
    case many([String])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            self = .one(s)
        } else {
            self = .many(try c.decode([String].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .one(let s): try c.encode(s)
        case .many(let a): try c.encode(a)
        }
    }

    /// The strings, however they were written.
    public var values: [String] {
        switch self {
        case .one(let s): [s]
        case .many(let a): a
        }
    }
}
