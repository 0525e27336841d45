// SPDX-License-Identifier: Apache-2.0

public import Tensors
import Foundation

/// Errors reading or writing checkpoints.
public enum CheckpointError: Error, Equatable {
    case unreadable(path: String)
    case badHeader(String)
    case unsupportedDType(name: String, dtype: String)
    case missingTensor(String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
}

/// Checkpoints in the safetensors format (8-byte little-endian header length, a JSON header of
/// `name → {dtype, shape, data_offsets}`, then raw little-endian data), readable by PyTorch's
/// `safetensors.torch.load_file`.
public enum Checkpoint {
    /// Writes `tensors` (F32) to `path`, with optional string `metadata`.
    public static func save(_ tensors: [(String, Tensor)], to path: String, metadata: [String: String] = [:]) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for (name, t) in tensors {
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + t.count * 4]]
            offset += t.count * 4
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces to 8-byte alignment, as the reference writer does.
        while json.count % 8 != 0 { json.append(0x20) }
        var data = Data()
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, t) in tensors {
            t.withUnsafeBufferPointer { data.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
        }
        guard FileManager.default.createFile(atPath: path, contents: data) else { throw CheckpointError.unreadable(path: path) }
    }

    /// Reads every F32 tensor of a safetensors file.
    public static func load(from path: String) throws -> [String: Tensor] {
        guard let data = FileManager.default.contents(atPath: path), data.count >= 8 else { throw CheckpointError.unreadable(path: path) }
        let n = data.prefix(8).withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        guard n > 0, 8 + n <= data.count,
              let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any]
        else { throw CheckpointError.badHeader(path) }
        var out: [String: Tensor] = [:]
        for (name, entry) in header where name != "__metadata__" {
            guard let e = entry as? [String: Any], let dtype = e["dtype"] as? String,
                  let shape = e["shape"] as? [Int], let offsets = e["data_offsets"] as? [Int], offsets.count == 2
            else { throw CheckpointError.badHeader(name) }
            guard dtype == "F32" else { throw CheckpointError.unsupportedDType(name: name, dtype: dtype) }
            let count = shape.reduce(1, *)
            let start = 8 + n + offsets[0]
            guard offsets[1] - offsets[0] == count * 4, start + count * 4 <= data.count else { throw CheckpointError.badHeader(name) }
            var t = Tensor(uninitializedShape: shape)
            t.withUnsafeMutableBufferPointer { dst in
                data.withUnsafeBytes { raw in
                    for i in 0..<count { dst[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + i * 4, as: UInt32.self))) }
                }
            }
            out[name] = t
        }
        return out
    }
}

extension Module {
    /// Parameters and buffers by name (PyTorch's `state_dict`).
    public func stateDictionary() -> [(String, Tensor)] {
        namedParameters().map { ($0.0, $0.1.value) } + namedBuffers().map { ($0.0, $0.1.value) }
    }

    /// Saves parameters and buffers as safetensors.
    public func save(to path: String, metadata: [String: String] = [:]) throws {
        try Checkpoint.save(stateDictionary(), to: path, metadata: metadata)
    }

    /// Loads parameters and buffers saved by ``save(to:metadata:)`` (or by PyTorch with the same names).
    public func load(from path: String) throws {
        let tensors = try Checkpoint.load(from: path)
        for (name, p) in namedParameters() {
            guard let t = tensors[name] else { throw CheckpointError.missingTensor(name) }
            guard t.shape == p.shape else { throw CheckpointError.shapeMismatch(name: name, expected: p.shape, found: t.shape) }
            p.value = t
        }
        for (name, b) in namedBuffers() {
            guard let t = tensors[name] else { throw CheckpointError.missingTensor(name) }
            guard t.shape == b.value.shape else { throw CheckpointError.shapeMismatch(name: name, expected: b.value.shape, found: t.shape) }
            b.value = t
        }
    }
}
