// SPDX-License-Identifier: Apache-2.0

/// Reads PNG or JPEG images, choosing the decoder by the file's first bytes, not its name.
///
/// ```swift
/// let image = try ImageFile.read(path: "photos/0001.jpg", channels: 3)
/// ```
public enum ImageFile {
    /// The formats ``ImageFile`` recognises.
    public enum Format: String, Sendable, Equatable {
        case png = "PNG"
        case jpeg = "JPEG"
    }

    /// The format whose signature `data` starts with (PNG: `89 50 4E 47 0D 0A 1A 0A`; JPEG:
    /// `FF D8 FF`), or nil.
    public static func format(of data: [UInt8]) -> Format? {
        if data.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        return nil
    }

    /// Decodes a PNG or JPEG held in memory.
    /// - Parameter channels: as for ``PNG/decode(_:channels:)``.
    /// - Throws: ``ImageIOError/unknownFormat(path:leadingBytes:)`` and the decoders' errors.
    public static func decode(_ data: [UInt8], channels: Int? = nil) throws(ImageIOError) -> Image {
        switch format(of: data) {
        case .png: try PNG.decode(data, channels: channels)
        case .jpeg: try JPEG.decode(data, channels: channels)
        case nil: throw .unknownFormat(path: nil, leadingBytes: Array(data.prefix(8)))
        }
    }

    /// Reads and decodes the PNG or JPEG at `path`.
    /// - Parameter channels: as for ``PNG/decode(_:channels:)``.
    /// - Throws: ``ImageIOError/unreadable(path:reason:)``,
    ///   ``ImageIOError/unknownFormat(path:leadingBytes:)`` and the decoders' errors, all naming `path`.
    public static func read(path: String, channels: Int? = nil) throws(ImageIOError) -> Image {
        try decodeFile(path: path) { bytes throws(ImageIOError) in try decode(bytes, channels: channels) }
    }
}
