// SPDX-License-Identifier: Apache-2.0

/// Where one tensor's data lives in a GGUF file, and its shape and type.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The tensor's name, e.g. `blk.0.attn_q.weight`.
    public let name: String
    /// Dimensions in ggml order: `shape[0]` is the contiguous row length.
    public let shape: [Int]
    /// Element type.
    public let type: GGMLType
    /// Offset of the data relative to the start of the data section.
    public let offset: Int
    /// Number of elements.
    public var elementCount: Int { shape.reduce(1, *) }
    /// Number of bytes of data.
    public var byteCount: Int { type.byteCount(elements: elementCount) }
    /// Elements per row (`shape[0]`).
    public var rowLength: Int { shape.first ?? 1 }
    /// Number of rows (product of the other dimensions).
    public var rowCount: Int { shape.dropFirst().reduce(1, *) }
}

/// A parsed GGUF (v2 or v3) file: metadata, tensor table and zero-copy views of tensor data.
///
/// The file is memory-mapped; tensor data is never copied. Parsing checks every length and
/// offset against the file size and throws ``GGUFError`` naming the problem and its offset.
///
/// ```swift
/// let file = try GGUFFile(path: "model.gguf")
/// print(file.metadata["general.architecture"] ?? "?")
/// let embedding = file.tensor(named: "token_embd.weight")!
/// let bytes = file.data(for: embedding) // UnsafeRawBufferPointer into the map
/// ```
public final class GGUFFile: @unchecked Sendable {
    /// Format version (2 or 3).
    public let version: UInt32
    /// Metadata keys in file order.
    public let metadataKeys: [String]
    /// Metadata by key.
    public let metadata: [String: MetadataValue]
    /// Tensor table in file order.
    public let tensors: [GGUFTensorInfo]
    /// Data alignment (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute offset of the tensor data section.
    public let dataOffset: Int
    /// Total size of the file in bytes.
    public let fileSize: Int

    private let tensorIndex: [String: Int]
    // Keeps the bytes alive: a mapped file or an owned copy (freed by ARC exactly once, even
    // when parsing throws after every property is set).
    private let storage: AnyObject
    private let base: UnsafeRawPointer?

    /// Opens and parses the file at `path` (memory-mapped).
    /// - Throws: ``GGUFError`` naming the problem and its offset.
    public convenience init(path: String) throws(GGUFError) {
        let m = try MappedFile(path: path)
        try self.init(base: m.base, count: m.count, storage: m)
    }

    /// Parses a GGUF image held in memory (the bytes are copied once).
    public convenience init(bytes: [UInt8]) throws(GGUFError) {
        let owned = OwnedBytes(bytes)
        try self.init(base: UnsafeRawPointer(owned.buffer.baseAddress!), count: bytes.count, storage: owned)
    }

    private init(base: UnsafeRawPointer?, count: Int, storage: AnyObject) throws(GGUFError) {
        self.storage = storage
        self.base = base
        self.fileSize = count
        var r = ByteReader(base: base, count: count)

        let magic = try r.read(UInt32.self)
        guard magic == 0x4655_4747 else { throw .badMagic(found: magic) }
        let version = try r.read(UInt32.self)
        guard version == 2 || version == 3 else { throw .unsupportedVersion(version) }
        self.version = version
        let countsOffset = r.offset
        let tensorCount = try r.read(UInt64.self)
        let kvCount = try r.read(UInt64.self)
        // Each key/value needs at least 8 (key length) + 4 (type) bytes, each tensor at least 8+4+4+8.
        guard kvCount <= UInt64(r.remaining / 12) else {
            throw .absurdCount(what: "metadata key count", count: kvCount, offset: countsOffset + 8)
        }
        guard tensorCount <= UInt64(r.remaining / 24) else {
            throw .absurdCount(what: "tensor count", count: tensorCount, offset: countsOffset)
        }

        var keys: [String] = []
        var meta: [String: MetadataValue] = [:]
        keys.reserveCapacity(Int(kvCount))
        for _ in 0..<Int(kvCount) {
            let keyOffset = r.offset
            let key = try r.readString()
            let typeOffset = r.offset
            let rawType = try r.read(UInt32.self)
            guard let type = GGUFValueType(rawValue: rawType) else { throw .unknownValueType(rawType, offset: typeOffset) }
            let value = try r.readValue(type, depth: 0)
            guard meta[key] == nil else { throw .duplicateKey(key, offset: keyOffset) }
            meta[key] = value
            keys.append(key)
        }
        metadataKeys = keys
        metadata = meta

        var alignment = 32
        if let a = meta["general.alignment"] {
            guard case .uint32(let v) = a, v > 0, v & (v - 1) == 0 else {
                throw .badAlignment("\(a) (\(a.type))")
            }
            alignment = Int(v)
        }
        self.alignment = alignment

        var infos: [GGUFTensorInfo] = []
        var index: [String: Int] = [:]
        infos.reserveCapacity(Int(tensorCount))
        for _ in 0..<Int(tensorCount) {
            let infoOffset = r.offset
            let name = try r.readString()
            let dimsOffset = r.offset
            let nDims = try r.read(UInt32.self)
            guard nDims >= 1 && nDims <= 4 else {
                throw .absurdCount(what: "dimension count", count: UInt64(nDims), offset: dimsOffset)
            }
            var shape: [Int] = []
            var elements: UInt64 = 1
            for _ in 0..<Int(nDims) {
                let dOffset = r.offset
                let d = try r.read(UInt64.self)
                let (product, overflow) = elements.multipliedReportingOverflow(by: d)
                guard d <= UInt64(Int32.max), !overflow, product <= UInt64(count) * 8 else {
                    throw .absurdCount(what: "dimension", count: d, offset: dOffset)
                }
                elements = product
                shape.append(Int(d))
            }
            let rawType = try r.read(UInt32.self)
            guard let type = GGMLType(rawValue: rawType) else { throw .unknownTensorType(rawType, tensor: name) }
            let offset = try r.read(UInt64.self)
            guard shape[0] % type.blockSize == 0 else {
                throw .badTensorShape(name, shape: shape, type: type.description)
            }
            guard offset % UInt64(alignment) == 0 else {
                throw .misalignedTensor(name, offset: offset, alignment: alignment)
            }
            guard index[name] == nil else { throw .duplicateTensor(name, offset: infoOffset) }
            guard offset <= UInt64(count) else {
                throw .tensorOutOfBounds(name, offset: Int(clamping: offset), size: 0, fileSize: count)
            }
            index[name] = infos.count
            infos.append(GGUFTensorInfo(name: name, shape: shape, type: type, offset: Int(offset)))
        }
        tensors = infos
        tensorIndex = index

        let dataOffset = (r.offset + alignment - 1) / alignment * alignment
        self.dataOffset = dataOffset
        for t in infos {
            let start = dataOffset + t.offset
            let size = t.byteCount
            guard start <= count, size <= count - start else {
                throw .tensorOutOfBounds(t.name, offset: start, size: size, fileSize: count)
            }
        }
    }

    /// The tensor named `name`, if present.
    public func tensor(named name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The raw bytes of a tensor's data: a view into the file, valid as long as this object lives.
    public func data(for tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        guard let base else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + dataOffset + tensor.offset, count: tensor.byteCount)
    }

    /// Dequantizes a whole tensor to `Float` (for tests and tools; model code keeps weights quantized).
    public func floats(for tensor: GGUFTensorInfo) -> [Float] {
        let raw = data(for: tensor)
        return [Float](unsafeUninitializedCapacity: tensor.elementCount) { buf, n in
            Dequantize.row(tensor.type, raw.baseAddress!, into: buf.baseAddress!, count: tensor.elementCount)
            n = tensor.elementCount
        }
    }

    /// A metadata string value.
    public func string(_ key: String) -> String? { metadata[key]?.stringValue }
    /// A metadata integer value.
    public func int(_ key: String) -> Int? { metadata[key]?.intValue }
    /// A metadata numeric value as `Double`.
    public func double(_ key: String) -> Double? { metadata[key]?.doubleValue }
    /// A metadata bool value.
    public func bool(_ key: String) -> Bool? { metadata[key]?.boolValue }
}

/// A 64-byte-aligned copy of a file image held in memory.
final class OwnedBytes: @unchecked Sendable {
    let buffer: UnsafeMutableRawBufferPointer

    init(_ bytes: [UInt8]) {
        buffer = .allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { src in
            if let s = src.baseAddress { buffer.baseAddress!.copyMemory(from: s, byteCount: bytes.count) }
        }
    }

    deinit { buffer.deallocate() }
}

/// A bounds-checked little-endian cursor over raw bytes.
struct ByteReader {
    let base: UnsafeRawPointer?
    let count: Int
    var offset = 0

    var remaining: Int { count - offset }

    mutating func need(_ n: Int) throws(GGUFError) -> UnsafeRawPointer {
        guard n >= 0, n <= count - offset, let base else { throw .truncated(offset: offset, needed: n) }
        let p = base + offset
        offset += n
        return p
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws(GGUFError) -> T {
        let p = try need(MemoryLayout<T>.size)
        return T(littleEndian: p.loadUnaligned(as: T.self))
    }

    mutating func readString() throws(GGUFError) -> String {
        let lenOffset = offset
        let len = try read(UInt64.self)
        guard len <= UInt64(remaining) else {
            if len > UInt64(1 << 40) { throw .absurdCount(what: "string length", count: len, offset: lenOffset) }
            throw .truncated(offset: offset, needed: Int(len))
        }
        let start = offset
        let p = try need(Int(len))
        let bytes = UnsafeBufferPointer(start: p.assumingMemoryBound(to: UInt8.self), count: Int(len))
        guard let s = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8(offset: start) }
        return s
    }

    mutating func readValue(_ type: GGUFValueType, depth: Int) throws(GGUFError) -> MetadataValue {
        switch type {
        case .uint8: return .uint8(try read(UInt8.self))
        case .int8: return .int8(try read(Int8.self))
        case .uint16: return .uint16(try read(UInt16.self))
        case .int16: return .int16(try read(Int16.self))
        case .uint32: return .uint32(try read(UInt32.self))
        case .int32: return .int32(try read(Int32.self))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self)))
        case .bool:
            let o = offset
            let b = try read(UInt8.self)
            guard b <= 1 else { throw .unknownValueType(UInt32(b), offset: o) }
            return .bool(b == 1)
        case .string: return .string(try readString())
        case .uint64: return .uint64(try read(UInt64.self))
        case .int64: return .int64(try read(Int64.self))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self)))
        case .array:
            let typeOffset = offset
            let rawType = try read(UInt32.self)
            guard let elementType = GGUFValueType(rawValue: rawType), depth < 2 else {
                throw .unknownValueType(rawType, offset: typeOffset)
            }
            let countOffset = offset
            let n = try read(UInt64.self)
            let minSize = elementType.scalarSize ?? (elementType == .string ? 8 : 12)
            guard n <= UInt64(remaining / minSize) else {
                throw .absurdCount(what: "array length", count: n, offset: countOffset)
            }
            var values: [MetadataValue] = []
            values.reserveCapacity(Int(n))
            for _ in 0..<Int(n) { values.append(try readValue(elementType, depth: depth + 1)) }
            return .array(elementType, values)
        }
    }
}
