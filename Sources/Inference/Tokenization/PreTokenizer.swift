// SPDX-License-Identifier: Apache-2.0

/// Splits text into words before BPE, reproducing llama.cpp's pre-tokenizers exactly.
///
/// Every variant is a sequence of splitting passes; each pass cuts every current piece further and
/// keeps both the matches and the text between them.
public enum PreTokenizer: String, Sendable, CaseIterable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// SmolLM / StarCoder / Refact: every digit on its own (`\p{N}`), then GPT-2.
    case smollm

    /// The pre-tokenizer for a `tokenizer.ggml.pre` value (nil if not implemented).
    public init?(ggmlName: String) {
        switch ggmlName {
        case "default", "gpt2", "gpt-2", "mpt", "olmo", "jais": self = .gpt2
        case "smollm", "starcoder", "refact", "codeshell", "command-r": self = .smollm
        default: return nil
        }
    }

    /// Splits `text` into pieces whose concatenation is `text`.
    public func split(_ text: String) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var ranges: [Range<Int>] = [0..<scalars.count]
        if self == .smollm { ranges = ranges.flatMap { PreTokenizer.splitDigits(scalars, $0) } }
        ranges = ranges.flatMap { PreTokenizer.splitGPT2(scalars, $0) }
        return ranges.map { r in
            var v = String.UnicodeScalarView()
            v.append(contentsOf: scalars[r])
            return String(v)
        }
    }

    struct Flags {
        let letter, number, whitespace: Bool
        static let outOfRange = Flags(letter: false, number: false, whitespace: false)
    }

    @inline(__always)
    static func flags(_ s: Unicode.Scalar) -> Flags {
        switch s.value {
        case 0x41...0x5A, 0x61...0x7A: return Flags(letter: true, number: false, whitespace: false)
        case 0x30...0x39: return Flags(letter: false, number: true, whitespace: false)
        case 0x09...0x0D, 0x20: return Flags(letter: false, number: false, whitespace: true)
        case 0..<0x80: return Flags(letter: false, number: false, whitespace: false)
        default: break
        }
        let p = s.properties
        switch p.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return Flags(letter: true, number: false, whitespace: false)
        case .decimalNumber, .letterNumber, .otherNumber:
            return Flags(letter: false, number: true, whitespace: false)
        default:
            return Flags(letter: false, number: false, whitespace: p.isWhitespace)
        }
    }

    /// `\p{N}`: each number scalar becomes its own piece.
    static func splitDigits(_ s: [Unicode.Scalar], _ r: Range<Int>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = r.lowerBound
        for i in r where flags(s[i]).number {
            if start < i { out.append(start..<i) }
            out.append(i..<(i + 1))
            start = i + 1
        }
        if start < r.upperBound { out.append(start..<r.upperBound) }
        return out
    }

    /// The GPT-2 regex as a hand-written scanner (the same one llama.cpp uses).
    static func splitGPT2(_ s: [Unicode.Scalar], _ r: Range<Int>) -> [Range<Int>] {
        var out: [Range<Int>] = []
        let end = r.upperBound
        func cpt(_ i: Int) -> UInt32 { i < end ? s[i].value : 0xFFFF_FFFF }
        func fl(_ i: Int) -> Flags { i < end ? flags(s[i]) : .outOfRange }
        var pos = r.lowerBound
        while pos < end {
            let start = pos
            let c = cpt(pos)
            let f = fl(pos)
            // 's|'t|'re|'ve|'m|'ll|'d
            if c == 0x27 && pos + 1 < end {
                let n1 = cpt(pos + 1)
                if n1 == 0x73 || n1 == 0x74 || n1 == 0x6D || n1 == 0x64 {
                    pos += 2
                    out.append(start..<pos)
                    continue
                }
                if pos + 2 < end {
                    let n2 = cpt(pos + 2)
                    if (n1 == 0x72 && n2 == 0x65) || (n1 == 0x76 && n2 == 0x65) || (n1 == 0x6C && n2 == 0x6C) {
                        pos += 3
                        out.append(start..<pos)
                        continue
                    }
                }
            }
            let leadingSpace = c == 0x20
            let f2 = leadingSpace ? fl(pos + 1) : f
            let first = leadingSpace ? pos + 1 : pos
            let defined = first < end
            // ' ?\p{L}+'
            if defined && f2.letter {
                pos = first
                while pos < end && fl(pos).letter { pos += 1 }
                out.append(start..<pos)
                continue
            }
            // ' ?\p{N}+'
            if defined && f2.number {
                pos = first
                while pos < end && fl(pos).number { pos += 1 }
                out.append(start..<pos)
                continue
            }
            // ' ?[^\s\p{L}\p{N}]+'
            if defined && !(f2.whitespace || f2.letter || f2.number) {
                pos = first
                while pos < end {
                    let g = fl(pos)
                    if g.whitespace || g.letter || g.number { break }
                    pos += 1
                }
                out.append(start..<pos)
                continue
            }
            var spaces = 0
            while pos + spaces < end && fl(pos + spaces).whitespace { spaces += 1 }
            // '\s+(?!\S)'
            if spaces > 1 && pos + spaces < end {
                pos += spaces - 1
                out.append(start..<pos)
                continue
            }
            // '\s+'
            if spaces > 0 {
                pos += spaces
                out.append(start..<pos)
                continue
            }
            pos += 1
            out.append(start..<pos)
        }
        return out
    }
}
