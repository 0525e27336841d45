// SPDX-License-Identifier: Apache-2.0

import Foundation
import GGUF
import Support
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

@Suite("GGMLQuantizer: encoding f32 in the GGML types Tern writes")
struct QuantizerTests {
    @Test("decode(encode(x)) stays within each type's rounding step", arguments: [GGMLType.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1])
    func roundTrip(type: GGMLType) {
        var rng = SeededRandom(seed: 7)
        let x = rng.floats(4 * 32, in: -2...2)
        let bytes = GGMLQuantizer.quantize(x, as: type)
        #expect(bytes.count == type.byteCount(elements: x.count))
        var y = [Float](repeating: .nan, count: x.count)
        bytes.withUnsafeBytes { src in y.withUnsafeMutableBufferPointer { Dequantize.row(type, src.baseAddress!, into: $0.baseAddress!, count: x.count) } }
        // Worst-case error per value: half a step of the type's grid over a block spanning [-2, 2].
        let bound: Float = switch type {
        case .f32: 0
        case .f16: 2e-3
        case .bf16: 2.0 / 256 / 2 * 1.01  // half a step of 8 mantissa bits at |x| < 2 (rounded, not truncated)
        case .q8_0: 2.0 / 127 / 2 + 1e-3
        case .q4_0: 2.0 / 8 * 1.01 + 1e-3  // d = max/−8: the far end clips to 7·d, a whole step short
        default: 4.0 / 15 / 2 * 1.01 + 2e-3  // q4_1: (max − min)/15 steps
        }
        for i in x.indices { #expect(abs(x[i] - y[i]) <= bound, "value \(i): \(x[i]) decoded as \(y[i])") }
    }

    @Test("types it cannot write are refused up front")
    func refuses() {
        #expect(GGMLQuantizer.canEncode(.q4_1) && !GGMLQuantizer.canEncode(.q4_K) && !GGMLQuantizer.canEncode(.q6_K))
    }
}
