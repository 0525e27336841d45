// SPDX-License-Identifier: Apache-2.0

/// Everything that can be wrong with a GGUF file.
///
/// Every case names the problem and the byte offset where it was found, so a user can tell a
/// truncated download from a file written by a buggy converter.
public enum GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or mapped.
    case cannotOpen(path: String, reason: String)
    /// The first four bytes are not `GGUF`.
    case badMagic(found: UInt32)
    /// A version other than 2 or 3.
    case unsupportedVersion(UInt32)
    /// The file ends before a value that starts at `offset` and needs `needed` bytes.
    case truncated(offset: Int, needed: Int)
    /// A count (keys, tensors, array length, string length, dimensions) is larger than the file could hold.
    case absurdCount(what: String, count: UInt64, offset: Int)
    /// A metadata value type id that GGUF does not define.
    case unknownValueType(UInt32, offset: Int)
    /// A tensor type id that Tern does not know.
    case unknownTensorType(UInt32, tensor: String)
    /// The same metadata key appears twice.
    case duplicateKey(String, offset: Int)
    /// The same tensor name appears twice.
    case duplicateTensor(String, offset: Int)
    /// `general.alignment` is zero, not a power of two, or not a `UINT32`; carries the value as written
    /// (any type or sign, so reporting it can never trap).
    case badAlignment(String)
    /// A tensor's data offset is not a multiple of the alignment.
    case misalignedTensor(String, offset: UInt64, alignment: Int)
    /// A tensor's data lies (partly) outside the file.
    case tensorOutOfBounds(String, offset: Int, size: Int, fileSize: Int)
    /// A tensor's row length is not a multiple of its type's block size.
    case badTensorShape(String, shape: [Int], type: String)
    /// A string is not valid UTF-8.
    case invalidUTF8(offset: Int)
    /// A required metadata key is missing or has the wrong type.
    case missingKey(String)
    /// A write failed.
    case writeFailed(path: String, reason: String)
    /// A tensor would have to be written in a type ``GGMLQuantizer`` cannot encode.
    case cannotEncode(tensor: String, type: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): "cannot open \(path): \(reason)"
        case .badMagic(let found):
            "not a GGUF file: bad magic 0x\(String(found, radix: 16)) at offset 0 (expected 'GGUF')"
        case .unsupportedVersion(let v): "unsupported GGUF version \(v) at offset 4 (supported: 2, 3)"
        case .truncated(let offset, let needed): "file truncated: needed \(needed) bytes at offset \(offset)"
        case .absurdCount(let what, let count, let offset): "absurd \(what) \(count) at offset \(offset)"
        case .unknownValueType(let t, let offset): "unknown metadata value type \(t) at offset \(offset)"
        case .unknownTensorType(let t, let tensor): "tensor '\(tensor)' has unknown type id \(t)"
        case .duplicateKey(let k, let offset): "duplicate metadata key '\(k)' at offset \(offset)"
        case .duplicateTensor(let n, let offset): "duplicate tensor name '\(n)' at offset \(offset)"
        case .badAlignment(let a): "bad general.alignment \(a): must be a UINT32 power of two"
        case .misalignedTensor(let n, let offset, let alignment):
            "tensor '\(n)' data offset \(offset) is not a multiple of the alignment \(alignment)"
        case .tensorOutOfBounds(let n, let offset, let size, let fileSize):
            "tensor '\(n)' data [\(offset), \(offset + size)) lies outside the file (\(fileSize) bytes)"
        case .badTensorShape(let n, let shape, let type):
            "tensor '\(n)' shape \(shape) is not a whole number of \(type) blocks"
        case .invalidUTF8(let offset): "invalid UTF-8 string at offset \(offset)"
        case .missingKey(let k): "missing or mistyped metadata key '\(k)'"
        case .writeFailed(let path, let reason): "cannot write \(path): \(reason)"
        case .cannotEncode(let n, let type):
            "cannot re-encode tensor '\(n)' as \(type): Tern encodes F32, F16, BF16, Q8_0, Q4_0 and Q4_1"
        }
    }
}
