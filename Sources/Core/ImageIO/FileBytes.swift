// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func errnoReason() -> String { String(cString: strerror(errno)) }

/// Reads the file at `path` and decodes it, naming `path` in any decoding error.
func decodeFile(path: String, _ decode: ([UInt8]) throws(ImageIOError) -> Image) throws(ImageIOError) -> Image {
    let bytes = try readFileBytes(path: path)
    do {
        return try decode(bytes)
    } catch {
        throw error.at(path: path)
    }
}

/// The whole contents of the regular file at `path`.
func readFileBytes(path: String) throws(ImageIOError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .unreadable(path: path, reason: errnoReason()) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw .unreadable(path: path, reason: errnoReason()) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path: path, reason: "not a regular file") }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(Int(st.st_size))
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw .unreadable(path: path, reason: errnoReason())
        }
        if n == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<n])
    }
}

/// Writes `bytes` to `path`, creating or truncating it (mode 0644 before the umask).
func writeFileBytes(_ bytes: [UInt8], path: String) throws(ImageIOError) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .unwritable(path: path, reason: errnoReason()) }
    var offset = 0
    while offset < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if n < 0 {
            if errno == EINTR { continue }
            let reason = errnoReason()
            close(fd)
            throw .unwritable(path: path, reason: reason)
        }
        offset += n
    }
    guard close(fd) == 0 else { throw .unwritable(path: path, reason: errnoReason()) }
}
