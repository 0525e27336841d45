// SPDX-License-Identifier: Apache-2.0

import Foundation

/// One tensor of a safetensors file, decoded to f32.
struct SafeTensor {
    var shape: [Int]
    var floats: [Float]
}

/// Why a safetensors file was refused.
struct SafeTensorsError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A minimal safetensors reader: 8-byte little-endian header length, JSON header, raw data.
/// F32, F16 and BF16 tensors. Every size and offset is checked against the file with
/// overflow-checked arithmetic, so a hostile file (adapters arrive over HTTP) is an error, never a
/// trap or an out-of-bounds read. Fuzzed by `fuzz/run.sh safetensors`.
enum SafeTensorsReader {
    struct Header: Decodable {
        var dtype: String
        var shape: [Int]
        var data_offsets: [Int]
    }

    static func read(path: String) throws -> [String: SafeTensor] {
        try read(Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped))
    }

    /// Largest tensor accepted, in elements (2^31: far above any LoRA factor).
    static let maxElements = 1 << 31

    static func read(_ data: Data) throws(SafeTensorsError) -> [String: SafeTensor] {
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
            let width: Int
            switch h.dtype {
            case "F32": width = 4
            case "F16", "BF16": width = 2
            default: throw SafeTensorsError("tensor '\(name)' has dtype \(h.dtype); F32, F16 and BF16 are supported")
            }
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
                    switch h.dtype {
                    case "F32": floats[i] = Float(bitPattern: p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self).littleEndian)
                    case "F16": floats[i] = Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian))
                    default: floats[i] = Float(bitPattern: UInt32(p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self).littleEndian) << 16)
                    }
                }
            }
            out[name] = SafeTensor(shape: h.shape, floats: floats)
        }
        return out
    }
}
