// SPDX-License-Identifier: Apache-2.0

/// GPT-2's reversible map between bytes and printable Unicode scalars used in byte-level BPE vocabularies.
enum ByteLevel {
    /// `byteToScalar[b]` is the scalar that stands for byte `b` in token strings.
    static let byteToScalar: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var printable = Set<Int>()
        for r in [0x21...0x7E, 0xA1...0xAC, 0xAE...0xFF] { for b in r { printable.insert(b) } }
        var next = 256
        for b in 0..<256 {
            if printable.contains(b) {
                table[b] = Unicode.Scalar(UInt32(b))!
            } else {
                table[b] = Unicode.Scalar(UInt32(next))!
                next += 1
            }
        }
        return table
    }()

    /// Inverse of ``byteToScalar``.
    static let scalarToByte: [UInt32: UInt8] = {
        var m: [UInt32: UInt8] = [:]
        for (b, s) in byteToScalar.enumerated() { m[s.value] = UInt8(b) }
        return m
    }()

    /// Encodes bytes as a byte-level token string.
    static func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }

    /// Decodes a byte-level token string back to bytes; scalars outside the map are kept as UTF-8.
    static func decode(_ token: String) -> [UInt8] {
        var out: [UInt8] = []
        for s in token.unicodeScalars {
            if let b = scalarToByte[s.value] {
                out.append(b)
            } else {
                out.append(contentsOf: Array(String(s).utf8))
            }
        }
        return out
    }
}
