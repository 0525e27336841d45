// SPDX-License-Identifier: Apache-2.0

/// Everything that can go wrong reading, decoding, encoding or writing an image.
///
/// Cases carry the file (when there is one) and the codec's own message, so a user can tell a
/// missing file from a truncated download from a file that is not an image at all. Hostile or
/// corrupt bytes always end here, never in a crash.
public enum ImageIOError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The file could not be created or written.
    case unwritable(path: String, reason: String)
    /// The bytes start with neither the PNG nor the JPEG signature; `path` is nil for bytes
    /// decoded from memory, `leadingBytes` holds up to the first eight bytes.
    case unknownFormat(path: String?, leadingBytes: [UInt8])
    /// libpng or libjpeg rejected the data (`format` is `"PNG"` or `"JPEG"`); `message` is the
    /// library's, e.g. "Premature end of JPEG file" or "IHDR: CRC error".
    case decode(format: String, path: String?, message: String)
    /// The PNG encoder failed, or the image's stored properties disagree.
    case encode(message: String)
    /// `width * height` exceeds ``Image/maxPixelCount``.
    case tooLarge(width: Int, height: Int, path: String?)
    /// A channel count other than 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) was requested.
    case unsupportedChannels(Int)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .unwritable(let path, let reason): "cannot write \(path): \(reason)"
        case .unknownFormat(let path, let bytes):
            "\(path ?? "data") is neither PNG nor JPEG (starts with \(bytes.isEmpty ? "nothing" : hex(bytes)))"
        case .decode(let format, let path, let message): "\(Self.prefix(path))invalid \(format): \(message)"
        case .encode(let message): "cannot encode PNG: \(message)"
        case .tooLarge(let width, let height, let path):
            "\(Self.prefix(path))\(width)x\(height) image exceeds the limit of \(Image.maxPixelCount) pixels"
        case .unsupportedChannels(let n): "unsupported channel count \(n) (1 grey, 2 grey+alpha, 3 RGB, 4 RGBA)"
        }
    }

    private static func prefix(_ path: String?) -> String { path.map { "\($0): " } ?? "" }

    /// The same error, naming the file it came from.
    func at(path: String) -> ImageIOError {
        switch self {
        case .decode(let format, nil, let message): .decode(format: format, path: path, message: message)
        case .tooLarge(let width, let height, nil): .tooLarge(width: width, height: height, path: path)
        case .unknownFormat(nil, let bytes): .unknownFormat(path: path, leadingBytes: bytes)
        default: self
        }
    }
}

private func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    return bytes.map { String([digits[Int($0 >> 4)], digits[Int($0 & 15)]]) }.joined(separator: " ")
}
