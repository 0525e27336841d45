// SPDX-License-Identifier: Apache-2.0

import Foundation
import GGUF
import TestSupport
import Testing

struct DequantFixtureFile: Decodable {
    struct Fixture: Decodable {
        let type: String
        let ggml_type: UInt32
        let n_elements: Int
        let data_hex: String
        let values: [Float]
    }
    let fixtures: [Fixture]
}

func hexBytes(_ s: String) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(s.utf8.count / 2)
    var it = s.utf8.makeIterator()
    func nib(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
    while let a = it.next(), let b = it.next() { out.append(nib(a) << 4 | nib(b)) }
    return out
}

@Suite("Dequantization against gguf-py")
struct DequantizeTests {
    static let fixtures: [DequantFixtureFile.Fixture] = {
        Fixtures.decode(DequantFixtureFile.self, "quant/dequant.json").fixtures
    }()

    @Test("fixtures cover every required type")
    func coverage() {
        let have = Set(Self.fixtures.map(\.type))
        for t in ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"] {
            #expect(have.contains(t), "missing fixture for \(t)")
        }
    }

    @Test("bit-exact against gguf-py", arguments: DequantizeTests.fixtures.map(\.type))
    func parity(_ typeName: String) throws {
        let f = try #require(Self.fixtures.first { $0.type == typeName })
        let type = try #require(GGMLType(rawValue: f.ggml_type))
        #expect(type.description == f.type)
        let raw = hexBytes(f.data_hex)
        #expect(raw.count == type.byteCount(elements: f.n_elements))
        var out = [Float](repeating: .nan, count: f.n_elements)
        raw.withUnsafeBytes { src in
            out.withUnsafeMutableBufferPointer { Dequantize.row(type, src.baseAddress!, into: $0.baseAddress!, count: f.n_elements) }
        }
        var mismatches = 0
        for i in 0..<f.n_elements where out[i].bitPattern != f.values[i].bitPattern && !(out[i].isNaN && f.values[i].isNaN) {
            if mismatches < 5 { Issue.record("\(typeName)[\(i)]: got \(out[i]) want \(f.values[i])") }
            mismatches += 1
        }
        #expect(mismatches == 0)
    }
}
