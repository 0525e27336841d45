// SPDX-License-Identifier: Apache-2.0

/// Hand-assembled GGUF images, valid and broken, for the reader's failure-taxonomy tests
/// (in the spirit of llama.cpp's `test-gguf`).
public enum CorruptGGUF {
    /// A byte emitter for assembling GGUF images field by field.
    public struct Emitter {
        public var bytes: [UInt8] = []
        public init() {}
        public mutating func u8(_ v: UInt8) { bytes.append(v) }
        public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        public mutating func string(_ s: String) {
            u64(UInt64(s.utf8.count))
            bytes.append(contentsOf: s.utf8)
        }
        public mutating func pad(to alignment: Int) { while bytes.count % alignment != 0 { bytes.append(0) } }
    }

    /// Every way a file can be broken that the reader must diagnose.
    public enum Defect: String, CaseIterable, Sendable {
        case none, badMagic, unsupportedVersion, truncatedHeader, truncatedMetadata, truncatedTensorData
        case badAlignment, duplicateKey, duplicateTensor, unknownValueType, unknownTensorType
        case tensorOutOfBounds, misalignedTensor, absurdKeyCount, absurdTensorCount, absurdArrayLength
        case absurdStringLength, absurdDimensionCount, invalidUTF8, badRowLength
    }

    /// A small file (2 keys, 2 F32 tensors of 8 elements) with `defect` injected.
    public static func make(_ defect: Defect) -> [UInt8] {
        var e = Emitter()
        e.u32(defect == .badMagic ? 0x4655_4748 : 0x4655_4747)
        e.u32(defect == .unsupportedVersion ? 7 : 3)
        if defect == .truncatedHeader { return Array(e.bytes.prefix(12)) }
        e.u64(defect == .absurdTensorCount ? UInt64(1) << 60 : 2)
        let extraKeys = (defect == .duplicateKey ? 1 : 0) + (defect == .badAlignment ? 1 : 0)
            + (defect == .absurdArrayLength ? 1 : 0) + (defect == .unknownValueType ? 1 : 0)
        e.u64(defect == .absurdKeyCount ? UInt64(1) << 61 : UInt64(2 + extraKeys))
        e.string("general.architecture")
        e.u32(8)
        e.string("llama")
        e.string(defect == .invalidUTF8 ? "general.na\u{FFFD}me" : "general.name")
        if defect == .invalidUTF8 {
            // Overwrite the replacement character's bytes with an invalid sequence of the same length.
            let n = e.bytes.count
            e.bytes[n - 5] = 0xC3
            e.bytes[n - 4] = 0x28
            e.bytes[n - 3] = 0xFF
        }
        e.u32(8)
        if defect == .absurdStringLength {
            e.u64(UInt64(1) << 62)
        } else {
            e.string("tiny")
        }
        if defect == .duplicateKey {
            e.string("general.name")
            e.u32(8)
            e.string("again")
        }
        if defect == .badAlignment {
            e.string("general.alignment")
            e.u32(4)
            e.u32(3)
        }
        if defect == .absurdArrayLength {
            e.string("tokenizer.ggml.tokens")
            e.u32(9)
            e.u32(8)
            e.u64(UInt64(1) << 58)
        }
        if defect == .unknownValueType {
            e.string("weird")
            e.u32(42)
            e.u32(0)
        }
        if defect == .truncatedMetadata { return Array(e.bytes.dropLast(3)) }
        // Tensor infos.
        let names = ["a", defect == .duplicateTensor ? "a" : "b"]
        for (i, name) in names.enumerated() {
            e.string(name)
            e.u32(defect == .absurdDimensionCount && i == 1 ? 9 : 1)
            e.u64(defect == .badRowLength && i == 1 ? 7 : 8)
            e.u32(defect == .unknownTensorType && i == 1 ? 99 : (defect == .badRowLength && i == 1 ? 8 : 0))
            var offset: UInt64 = UInt64(i * 32)
            if defect == .tensorOutOfBounds && i == 1 { offset = 1 << 20 }
            if defect == .misalignedTensor && i == 1 { offset = 36 }
            e.u64(offset)
        }
        e.pad(to: 32)
        for i in 0..<2 {
            for j in 0..<8 { e.u32(Float(i * 8 + j).bitPattern) }
            e.pad(to: 32)
        }
        if defect == .truncatedTensorData { return Array(e.bytes.dropLast(16)) }
        return e.bytes
    }
}
