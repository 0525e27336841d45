// SPDX-License-Identifier: Apache-2.0

/// Turns a stream of token ids into text without ever emitting half a UTF-8 character.
///
/// Byte-level tokens can split a multi-byte character (an emoji is often two or three tokens);
/// the detokenizer holds back an incomplete tail until the next token completes it. Bytes that
/// can never form a valid character are emitted as U+FFFD.
///
/// ```swift
/// var detok = StreamingDetokenizer(tokenizer: tokenizer)
/// for id in ids { print(detok.append(id), terminator: "") }
/// print(detok.finish())
/// ```
public struct StreamingDetokenizer: Sendable {
    private let tokenizer: Tokenizer
    private let special: Bool
    private var pending: [UInt8] = []

    /// Creates a detokenizer; control tokens are rendered only when `special` is true.
    public init(tokenizer: Tokenizer, special: Bool = false) {
        self.tokenizer = tokenizer
        self.special = special
    }

    /// Adds one token and returns the text that is now complete (possibly empty).
    public mutating func append(_ id: Int) -> String {
        append(bytes: tokenizer.bytes(of: id, special: special))
    }

    /// Adds raw bytes and returns the text that is now complete.
    public mutating func append(bytes: [UInt8]) -> String {
        pending.append(contentsOf: bytes)
        let complete = StreamingDetokenizer.completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Returns whatever is left (an incomplete tail becomes U+FFFD) and resets.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return pending.isEmpty ? "" : String(decoding: pending, as: UTF8.self)
    }

    /// Length of the longest prefix that does not end inside a possibly-valid UTF-8 sequence.
    static func completePrefixLength(_ b: [UInt8]) -> Int {
        let n = b.count
        // Look back at most 3 bytes for the start of the last sequence.
        var i = n - 1
        var back = 0
        while i >= 0 && back < 4 {
            let c = b[i]
            if c & 0xC0 != 0x80 {
                // Lead byte (or ASCII): how long should its sequence be?
                let need: Int
                if c < 0x80 { need = 1 } else if c & 0xE0 == 0xC0 { need = 2 } else if c & 0xF0 == 0xE0 { need = 3 } else if c & 0xF8 == 0xF0 { need = 4 } else { need = 1 }
                return n - i < need ? i : n
            }
            i -= 1
            back += 1
        }
        return n
    }
}
