// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a GGUF v3 image: metadata in insertion order, then tensor infos, then aligned data.
///
/// Used by tests (tiny models, corrupt files) and by anything that saves weights (LoRA adapters).
///
/// ```swift
/// var w = GGUFWriter()
/// w.set("general.architecture", .string("llama"))
/// w.addTensor(name: "x", shape: [4], type: .f32, data: bytes)
/// try w.write(to: "/tmp/x.gguf")
/// ```
public struct GGUFWriter: Sendable {
    /// Data alignment; written as `general.alignment` when not 32.
    public var alignment: Int
    private var metadata: [(String, MetadataValue)] = []
    private var tensors: [(name: String, shape: [Int], type: GGMLType, data: [UInt8])] = []

    /// Creates an empty writer.
    public init(alignment: Int = 32) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment must be a power of two")
        self.alignment = alignment
    }

    /// Sets (or replaces) a metadata value.
    public mutating func set(_ key: String, _ value: MetadataValue) {
        if let i = metadata.firstIndex(where: { $0.0 == key }) {
            metadata[i].1 = value
        } else {
            metadata.append((key, value))
        }
    }

    /// Adds a tensor whose `data` is already encoded in `type` (ggml dimension order: `shape[0]` is the row).
    public mutating func addTensor(name: String, shape: [Int], type: GGMLType, data: [UInt8]) {
        let n = shape.reduce(1, *)
        precondition(shape[0] % type.blockSize == 0, "addTensor \(name): row \(shape[0]) not a multiple of \(type)")
        precondition(data.count == type.byteCount(elements: n), "addTensor \(name): \(data.count) bytes for \(shape) \(type)")
        tensors.append((name, shape, type, data))
    }

    /// Adds an F32 tensor.
    public mutating func addTensor(name: String, shape: [Int], floats: [Float]) {
        var bytes = [UInt8](repeating: 0, count: floats.count * 4)
        bytes.withUnsafeMutableBytes { dst in
            floats.withUnsafeBytes { src in dst.copyMemory(from: src) }
        }
        addTensor(name: name, shape: shape, type: .f32, data: bytes)
    }

    /// The complete file image.
    public func bytes() -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func putString(_ s: String) {
            let u = Array(s.utf8)
            put(UInt64(u.count))
            out.append(contentsOf: u)
        }
        func putValue(_ v: MetadataValue) {
            switch v {
            case .uint8(let x): put(x)
            case .int8(let x): put(x)
            case .uint16(let x): put(x)
            case .int16(let x): put(x)
            case .uint32(let x): put(x)
            case .int32(let x): put(x)
            case .float32(let x): put(x.bitPattern)
            case .bool(let x): put(UInt8(x ? 1 : 0))
            case .string(let s): putString(s)
            case .uint64(let x): put(x)
            case .int64(let x): put(x)
            case .float64(let x): put(x.bitPattern)
            case .array(let t, let a):
                put(t.rawValue)
                put(UInt64(a.count))
                for e in a { putValue(e) }
            }
        }
        var meta = metadata
        if alignment != 32, !meta.contains(where: { $0.0 == "general.alignment" }) {
            meta.append(("general.alignment", .uint32(UInt32(alignment))))
        }
        put(UInt32(0x4655_4747))
        put(UInt32(3))
        put(UInt64(tensors.count))
        put(UInt64(meta.count))
        for (k, v) in meta {
            putString(k)
            put(v.type.rawValue)
            putValue(v)
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset += (t.data.count + alignment - 1) / alignment * alignment
        }
        for (t, o) in zip(tensors, offsets) {
            putString(t.name)
            put(UInt32(t.shape.count))
            for d in t.shape { put(UInt64(d)) }
            put(t.type.rawValue)
            put(UInt64(o))
        }
        while out.count % alignment != 0 { out.append(0) }
        for t in tensors {
            out.append(contentsOf: t.data)
            while out.count % alignment != 0 { out.append(0) }
        }
        return out
    }

    /// Writes the image to `path` atomically (temporary file, then rename).
    public func write(to path: String) throws(GGUFError) {
        let image = bytes()
        let tmp = path + ".tmp-\(getpid())"
        guard let f = fopen(tmp, "wb") else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        let written = image.withUnsafeBytes { fwrite($0.baseAddress, 1, image.count, f) }
        fclose(f)
        guard written == image.count, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw .writeFailed(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
