// SPDX-License-Identifier: Apache-2.0

/// Restricts what a request may generate: at each step only tokens whose bytes keep the output a
/// valid prefix of the language are candidates (constrained decoding), and end-of-generation is
/// allowed only when the output is complete.
///
/// Checking is lazy: candidates are tried best-first, so a step usually checks only a few tokens.
public protocol OutputConstraint: Sendable {
    /// Whether `bytes` (the whole output so far plus a candidate) is a prefix of some valid output.
    func isValidPrefix(_ bytes: [UInt8]) -> Bool
    /// Whether `bytes` is a complete valid output.
    func isComplete(_ bytes: [UInt8]) -> Bool
    /// Whether nothing can follow `bytes` (complete and not extendable): generation stops at once.
    func isClosed(_ bytes: [UInt8]) -> Bool
}

extension OutputConstraint {
    public func isClosed(_ bytes: [UInt8]) -> Bool { false }
}

/// The output must be exactly one of the given strings.
public struct ChoiceConstraint: OutputConstraint {
    /// Allowed outputs.
    public let choices: [[UInt8]]

    /// Creates a choice constraint.
    public init(_ choices: [String]) { self.choices = choices.map { Array($0.utf8) } }

    public func isValidPrefix(_ bytes: [UInt8]) -> Bool {
        choices.contains { $0.count >= bytes.count && $0.starts(with: bytes) }
    }

    public func isComplete(_ bytes: [UInt8]) -> Bool { choices.contains(bytes) }

    public func isClosed(_ bytes: [UInt8]) -> Bool {
        isComplete(bytes) && !choices.contains { $0.count > bytes.count && $0.starts(with: bytes) }
    }
}
