// SPDX-License-Identifier: Apache-2.0

public import Foundation

/// Errors reading dataset files.
public enum DatasetError: Error, Equatable {
    case missingFile(String)
    case badMagic(path: String, found: UInt32)
    case truncated(path: String, expected: Int, found: Int)
    case malformed(path: String, line: Int)
    case mismatchedCounts(images: Int, labels: Int)
}

/// The IDX format of (Fashion-)MNIST: a big-endian magic `0x0000 TT DD` (type `0x08` = unsigned
/// byte, `DD` dimensions), `DD` big-endian 32-bit sizes, then the data.
public enum IDX {
    /// Parses an unsigned-byte IDX file into its dimensions and bytes.
    public static func parse(_ data: Data, path: String = "<memory>") throws -> (dimensions: [Int], bytes: [UInt8]) {
        guard data.count >= 4 else { throw DatasetError.truncated(path: path, expected: 4, found: data.count) }
        let bytes = [UInt8](data)
        let magic = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
        let rank = Int(bytes[3])
        guard bytes[0] == 0, bytes[1] == 0, bytes[2] == 0x08, rank >= 1, rank <= 4 else {
            throw DatasetError.badMagic(path: path, found: magic)
        }
        let headerBytes = 4 + 4 * rank
        guard bytes.count >= headerBytes else { throw DatasetError.truncated(path: path, expected: headerBytes, found: bytes.count) }
        let dims = (0..<rank).map { i -> Int in
            let o = 4 + 4 * i
            return Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
        }
        let count = dims.reduce(1, *)
        guard bytes.count >= headerBytes + count else {
            throw DatasetError.truncated(path: path, expected: headerBytes + count, found: bytes.count)
        }
        return (dims, Array(bytes[headerBytes..<(headerBytes + count)]))
    }

    /// Reads and parses an IDX file.
    public static func read(path: String) throws -> (dimensions: [Int], bytes: [UInt8]) {
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError.missingFile(path) }
        return try parse(data, path: path)
    }
}

/// Where datasets live: `$TERN_HOME/data` (default `~/.cache/tern/data`), filled by `scripts/fetch-data.sh`.
public enum DataDirectory {
    public static var path: String {
        let env = ProcessInfo.processInfo.environment
        let home = env["TERN_HOME"] ?? ((env["HOME"] ?? "/root") + "/.cache/tern")
        return home + "/data"
    }
}
