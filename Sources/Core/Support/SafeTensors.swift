// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// Element types Tern reads and writes in safetensors files.
public enum SafeTensorsDType: String, Sendable, Codable, CaseIterable {
    /// IEEE single precision.
    case f32 = "F32"
    /// IEEE half precision (committed weights: half the bytes).
    case f16 = "F16"
    /// bfloat16 (the top half of an F32).
    case bf16 = "BF16"

    /// Bytes per element.
    public var width: Int { self == .f32 ? 4 : 2 }
}

/// One tensor of a safetensors file, decoded to `Float`.
public struct SafeTensor: Sendable, Equatable {
    /// Dimensions, outermost first (row-major).
    public var shape: [Int]
    /// `shape.reduce(1, *)` values.
    public var floats: [Float]
    /// The element type stored in the file (or to store, when writing).
    public var dtype: SafeTensorsDType

    /// Creates a tensor; `floats.count` must equal the shape's product.
    public init(shape: [Int], floats: [Float], dtype: SafeTensorsDType = .f32) {
        precondition(floats.count == shape.reduce(1, *), "SafeTensor: \(floats.count) values for shape \(shape)")
        self.shape = shape
        self.floats = floats
        self.dtype = dtype
    }
}

/// Why a safetensors file was refused (the message names the tensor and the offending value).
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    /// What was wrong.
    public let description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// The hardened safetensors reader and writer: 8-byte little-endian header length, a JSON header of
/// `name → {dtype, shape, data_offsets}` (plus an optional `__metadata__` string map), raw
/// little-endian data. F32, F16 and BF16.
///
/// Reading checks every size and offset against the file with overflow-checked arithmetic, so a
/// hostile file (adapters arrive over HTTP) is an error, never a trap or an out-of-bounds read;
/// `fuzz/run.sh safetensors` fuzzes it. Files written here load in PyTorch's
/// `safetensors.torch.load_file`.
///
/// ```swift
/// try SafeTensors.write(["w": SafeTensor(shape: [2, 2], floats: [1, 2, 3, 4], dtype: .f16)],
///                       metadata: ["commit": "abc123"], to: "model.safetensors")
/// let file = try SafeTensors.read(path: "model.safetensors")
/// file.tensors["w"]?.floats   // [1, 2, 3, 4]
/// ```
public enum SafeTensors {
    /// Largest tensor accepted, in elements (2^31: far above any weight Tern loads this way).
    public static let maxElements = 1 << 31

    /// A parsed file.
    public struct File: Sendable {
        /// Tensors by name.
        public var tensors: [String: SafeTensor]
        /// The `__metadata__` strings (empty when absent).
        public var metadata: [String: String]
    }

    struct Header: Decodable {
        var dtype: String
        var shape: [Int]
        var data_offsets: [Int]
    }

    /// Reads a file (memory-mapped).
    public static func read(path: String) throws -> File {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw SafeTensorsError("cannot read \(path): \(error.localizedDescription)")
        }
        return try read(data)
    }

    /// Parses a whole file held in memory.
    public static func read(_ data: Data) throws(SafeTensorsError) -> File {
        guard data.count >= 8 else { throw SafeTensorsError("file too short (\(data.count) bytes)") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8), headerLength <= 100 << 20 else {
            throw SafeTensorsError("header length \(headerLength) exceeds the file (\(data.count) bytes)")
        }
        let start = 8 + Int(headerLength)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data.subdata(in: data.startIndex + 8..<data.startIndex + start))
        } catch {
            throw SafeTensorsError("the header is not valid JSON")
        }
        guard let json = object as? [String: Any] else { throw SafeTensorsError("the header is not a JSON object") }
        let payload = data.count - start
        var out: [String: SafeTensor] = [:]
        var metadata: [String: String] = [:]
        if let m = json["__metadata__"] {
            guard let strings = m as? [String: String] else { throw SafeTensorsError("__metadata__ is not a map of strings") }
            metadata = strings
        }
        for (name, value) in json where name != "__metadata__" {
            // JSONSerialization traps (not throws) on a top-level non-container: check the type first.
            guard let entry = value as? [String: Any], JSONSerialization.isValidJSONObject(entry) else {
                throw SafeTensorsError("tensor '\(name)': the header entry is not an object with dtype, shape and data_offsets")
            }
            let h: Header
            do {
                h = try JSONDecoder().decode(Header.self, from: JSONSerialization.data(withJSONObject: entry))
            } catch {
                throw SafeTensorsError("tensor '\(name)': the header entry needs dtype, shape and data_offsets")
            }
            guard let dtype = SafeTensorsDType(rawValue: h.dtype) else {
                throw SafeTensorsError("tensor '\(name)' has dtype \(h.dtype); F32, F16 and BF16 are supported")
            }
            let width = dtype.width
            // Element count without overflow: every dimension non-negative and the product bounded.
            var count = 1
            for d in h.shape {
                guard d >= 0 else { throw SafeTensorsError("tensor '\(name)' has a negative dimension in \(h.shape)") }
                let (p, overflow) = count.multipliedReportingOverflow(by: d)
                guard !overflow, p <= maxElements else { throw SafeTensorsError("tensor '\(name)' shape \(h.shape) is too large") }
                count = p
            }
            guard h.data_offsets.count == 2, h.data_offsets[0] >= 0, h.data_offsets[1] >= h.data_offsets[0],
                  h.data_offsets[1] <= payload, h.data_offsets[1] - h.data_offsets[0] == count * width else {
                throw SafeTensorsError("tensor '\(name)' (\(h.dtype) \(h.shape)) has data offsets \(h.data_offsets) outside the file or of the wrong size")
            }
            let base = start + h.data_offsets[0]
            var floats = [Float](repeating: 0, count: count)
            data.withUnsafeBytes { raw in
                let p = raw.baseAddress! + base
                for i in 0..<count {
                    switch dtype {
                    case .f32: floats[i] = Float(bitPattern: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
                    case .f16: floats[i] = Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
                    case .bf16: floats[i] = Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
                    }
                }
            }
            out[name] = SafeTensor(shape: h.shape, floats: floats, dtype: dtype)
        }
        return File(tensors: out, metadata: metadata)
    }

    /// Encodes tensors (each in its own ``SafeTensor/dtype``) and metadata. The data follows the
    /// given order; header keys are sorted and the header is padded with spaces to 8 bytes, as the
    /// reference writer does. BF16 rounds to nearest even.
    public static func encode(_ tensors: [(name: String, tensor: SafeTensor)], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var payload = Data()
        for (name, t) in tensors {
            precondition(name != "__metadata__", "SafeTensors.encode: reserved tensor name")
            let begin = payload.count
            payload.reserveCapacity(begin + t.floats.count * t.dtype.width)
            switch t.dtype {
            case .f32:
                for v in t.floats { withUnsafeBytes(of: v.bitPattern.littleEndian) { payload.append(contentsOf: $0) } }
            case .f16:
                for v in t.floats { withUnsafeBytes(of: Float16(v).bitPattern.littleEndian) { payload.append(contentsOf: $0) } }
            case .bf16:
                for v in t.floats { withUnsafeBytes(of: bfloat16Bits(v).littleEndian) { payload.append(contentsOf: $0) } }
            }
            header[name] = ["dtype": t.dtype.rawValue, "shape": t.shape, "data_offsets": [begin, payload.count]] as [String: Any]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(payload)
        return file
    }

    /// Writes tensors and metadata to `path` (atomically).
    public static func write(_ tensors: [(name: String, tensor: SafeTensor)], metadata: [String: String] = [:], to path: String) throws {
        try encode(tensors, metadata: metadata).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The top 16 bits of `v`, rounded to nearest even (NaN stays NaN).
    static func bfloat16Bits(_ v: Float) -> UInt16 {
        guard !v.isNaN else { return 0x7FC0 }
        let bits = v.bitPattern
        return UInt16(truncatingIfNeeded: (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) >> 16)
    }
}
