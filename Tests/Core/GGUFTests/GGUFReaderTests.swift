// SPDX-License-Identifier: Apache-2.0

import Support
import Foundation
import GGUF
import TestSupport
import Testing

@Suite("GGUF reader and writer")
struct GGUFReaderTests {
    @Test("writer output parses back with every metadata type, arrays and tensors")
    func roundTrip() throws {
        var w = GGUFWriter()
        let values: [(String, MetadataValue)] = [
            ("u8", .uint8(200)), ("i8", .int8(-5)), ("u16", .uint16(65000)), ("i16", .int16(-30000)),
            ("u32", .uint32(4_000_000_000)), ("i32", .int32(-2_000_000_000)), ("f32", .float32(3.25)),
            ("bool", .bool(true)), ("str", .string("héllo ✓")), ("u64", .uint64(1 << 40)), ("i64", .int64(-(1 << 40))),
            ("f64", .float64(2.5e-300)), ("arr", .array(.int32, [.int32(1), .int32(-2), .int32(3)])),
            ("strs", .array(.string, [.string("a"), .string(""), .string("ü")])),
            ("empty", .array(.float32, [])),
            ("nested", .array(.array, [.array(.uint8, [.uint8(1)]), .array(.uint8, [])])),
        ]
        for (k, v) in values { w.set(k, v) }
        w.addTensor(name: "x", shape: [4, 2], floats: [1, 2, 3, 4, 5, 6, 7, 8])
        w.addTensor(name: "q", shape: [32], type: .q8_0, data: Quantizers.quantize((0..<32).map { Float($0) / 8 }, as: .q8_0))
        let file = try GGUFFile(bytes: w.bytes())
        #expect(file.version == 3)
        #expect(file.metadataKeys == values.map(\.0))
        for (k, v) in values { #expect(file.metadata[k] == v, "\(k)") }
        let x = try #require(file.tensor(named: "x"))
        #expect(x.shape == [4, 2] && x.type == .f32 && x.rowCount == 2)
        #expect(file.floats(for: x) == [1, 2, 3, 4, 5, 6, 7, 8])
        let q = try #require(file.tensor(named: "q"))
        #expect(file.dataOffset % 32 == 0 && q.offset % 32 == 0)
        let qf = file.floats(for: q)
        for i in 0..<32 { #expect(abs(qf[i] - Float(i) / 8) < 0.02) }
    }

    @Test("custom alignment is written and honoured")
    func alignment() throws {
        var w = GGUFWriter(alignment: 64)
        w.addTensor(name: "a", shape: [3], floats: [1, 2, 3])
        w.addTensor(name: "b", shape: [5], floats: [4, 5, 6, 7, 8])
        let file = try GGUFFile(bytes: w.bytes())
        #expect(file.alignment == 64)
        #expect(file.dataOffset % 64 == 0)
        #expect(file.tensor(named: "b")!.offset == 64)
        #expect(file.floats(for: file.tensor(named: "b")!) == [4, 5, 6, 7, 8])
    }

    @Test("file written to disk is memory-mapped and read back")
    func mappedFile() throws {
        let path = NSTemporaryDirectory() + "tern-gguf-\(UUID().uuidString).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var w = GGUFWriter()
        w.set("general.architecture", .string("llama"))
        w.addTensor(name: "t", shape: [2], floats: [0.5, -0.5])
        try w.write(to: path)
        let file = try GGUFFile(path: path)
        #expect(file.string("general.architecture") == "llama")
        #expect(file.floats(for: file.tensor(named: "t")!) == [0.5, -0.5])
        #expect(throws: GGUFError.self) { try GGUFFile(path: path + ".missing") }
    }

    @Test("every defect gives its own typed error, never a crash", arguments: CorruptGGUF.Defect.allCases)
    func failureTaxonomy(_ defect: CorruptGGUF.Defect) throws {
        let bytes = CorruptGGUF.make(defect)
        if defect == .none {
            let f = try GGUFFile(bytes: bytes)
            #expect(f.tensors.count == 2)
            #expect(f.floats(for: f.tensors[1]) == (8..<16).map(Float.init))
            return
        }
        do {
            _ = try GGUFFile(bytes: bytes)
            Issue.record("\(defect) was accepted")
        } catch {
            let ok: Bool = switch (defect, error) {
            case (.badMagic, .badMagic(let m)): m == 0x4655_4748
            case (.unsupportedVersion, .unsupportedVersion(7)): true
            case (.truncatedHeader, .truncated(let o, _)): o == 8
            case (.truncatedMetadata, .truncated): true
            case (.truncatedTensorData, .tensorOutOfBounds(let n, _, _, _)): n == "b"
            case (.badAlignment, .badAlignment(let a)): a == "3 (uint32)"
            case (.duplicateKey, .duplicateKey("general.name", _)): true
            case (.duplicateTensor, .duplicateTensor("a", _)): true
            case (.unknownValueType, .unknownValueType(42, _)): true
            case (.unknownTensorType, .unknownTensorType(99, "b")): true
            case (.tensorOutOfBounds, .tensorOutOfBounds("b", _, _, _)): true
            case (.misalignedTensor, .misalignedTensor("b", 36, 32)): true
            case (.absurdKeyCount, .absurdCount(let what, _, let o)): what.contains("key") && o == 16
            case (.absurdTensorCount, .absurdCount(let what, _, let o)): what.contains("tensor") && o == 8
            case (.absurdArrayLength, .absurdCount(let what, _, _)): what.contains("array")
            case (.absurdStringLength, .absurdCount(let what, _, _)): what.contains("string")
            case (.absurdDimensionCount, .absurdCount(let what, 9, _)): what.contains("dimension")
            case (.invalidUTF8, .invalidUTF8): true
            case (.badRowLength, .badTensorShape("b", [7], "Q8_0")): true
            default: false
            }
            #expect(ok, "\(defect): got \(error)")
            // Every message names the problem.
            #expect(!error.description.isEmpty)
        }
    }

    @Test("every prefix of a valid file fails cleanly")
    func everyTruncation() {
        let bytes = CorruptGGUF.make(.none)
        for n in 0..<bytes.count {
            #expect(throws: GGUFError.self) { try GGUFFile(bytes: Array(bytes.prefix(n))) }
        }
    }

    @Test("random byte flips never crash the reader")
    func byteFlips() {
        let base = CorruptGGUF.make(.none)
        var rng = SeededRandom(seed: 7)
        var accepted = 0
        for _ in 0..<3000 {
            var b = base
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if let f = try? GGUFFile(bytes: b) {
                accepted += 1
                for t in f.tensors { _ = f.floats(for: t) }  // data views must be in bounds
            }
        }
        #expect(accepted > 0)  // flips inside tensor data keep the file valid
    }

    /// Found by the GGUF fuzzer in CI: an INT32 `general.alignment` holding a negative value made
    /// building the error message trap (the value was converted to an unsigned integer).
    @Test("a negative or wrongly typed general.alignment is a typed error, not a trap")
    func negativeAlignment() {
        let fuzzCrash = Array(Data(base64Encoded:
            "R0dVRgMAAAAAAAAAAAAAAAIAAAAAAAAAFAAAAAAAAABnZW5lcmFhCWNobWxydGVjdHVyZQgAAAAFAAAAAAAAAAAAAAADEQAAAAAAAABnZW5lcmFsLmFsaWdubWVudAUAAAAAAO7u7u7u7u7u7u5HR1VGAw==")!)
        #expect {
            try GGUFFile(bytes: fuzzCrash)
        } throws: { error in
            guard case .badAlignment(let a) = error as? GGUFError else { return false }
            return a.hasSuffix("(int32)") && a.hasPrefix("-")
        }
        for value: MetadataValue in [.int32(-32), .int64(.min), .uint64(.max), .float32(32), .string("32"), .uint32(0)] {
            var w = GGUFWriter()
            w.set("general.alignment", value)
            #expect(throws: GGUFError.self) { try GGUFFile(bytes: w.bytes()) }
        }
    }
}
