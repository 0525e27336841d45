// SPDX-License-Identifier: Apache-2.0

public import Support
public import Tensors
import Foundation

/// Errors reading or writing checkpoints.
public enum CheckpointError: Error, Equatable {
    case unreadable(path: String)
    case badHeader(String)
    case missingTensor(String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
}

/// Checkpoints in the safetensors format (8-byte little-endian header length, a JSON header of
/// `name → {dtype, shape, data_offsets}`, then raw little-endian data), readable by PyTorch's
/// `safetensors.torch.load_file`.
public enum Checkpoint {
    /// Writes `tensors` to `path` in `dtype` (F32 by default; F16 for committed weights), with
    /// optional string `metadata` (the command and commit that made them).
    public static func save(_ tensors: [(String, Tensor)], to path: String, metadata: [String: String] = [:],
                            dtype: SafeTensorsDType = .f32) throws {
        let entries = tensors.map { (name: $0.0, tensor: SafeTensor(shape: $0.1.shape, floats: $0.1.scalars, dtype: dtype)) }
        do {
            try SafeTensors.write(entries, metadata: metadata, to: path)
        } catch {
            throw CheckpointError.unreadable(path: path)
        }
    }

    /// Reads every tensor of a safetensors file (F32, F16 or BF16, widened to F32).
    public static func load(from path: String) throws -> [String: Tensor] {
        guard FileManager.default.isReadableFile(atPath: path) else { throw CheckpointError.unreadable(path: path) }
        let file: SafeTensors.File
        do {
            file = try SafeTensors.read(path: path)
        } catch {
            throw CheckpointError.badHeader("\(path): \(error)")
        }
        return file.tensors.mapValues { Tensor(shape: $0.shape, scalars: $0.floats) }
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
