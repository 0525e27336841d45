// SPDX-License-Identifier: Apache-2.0

import CImageCodecs

/// PNG decoding and encoding through libpng's simplified API.
///
/// Decoding accepts every PNG colour type and bit depth and yields 8-bit samples: palette images
/// become RGB (RGBA when the file has transparency), grey with a transparent colour becomes
/// grey + alpha, 1/2/4-bit grey is scaled to 0...255, and 16-bit samples are scaled to 8 bits
/// (taken as sRGB when the file has no gAMA/sRGB chunk, so 0x8080 becomes 0x80). Interlaced files
/// are de-interlaced. A file whose gAMA chunk declares a gamma other than sRGB's is converted to
/// sRGB by libpng. Encoding writes 8-bit PNGs that decode back to the same samples.
///
/// ```swift
/// let bytes = try PNG.encode(image)
/// let back = try PNG.decode(bytes)   // back == image
/// ```
public enum PNG {
    /// Decodes a PNG held in memory.
    /// - Parameter channels: the layout wanted (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA), or nil
    ///   for the file's own; conversion follows ``Image/converted(toChannels:)``.
    /// - Throws: ``ImageIOError/decode(format:path:message:)`` with libpng's message,
    ///   ``ImageIOError/tooLarge(width:height:path:)`` or ``ImageIOError/unsupportedChannels(_:)``.
    public static func decode(_ data: [UInt8], channels: Int? = nil) throws(ImageIOError) -> Image {
        try decodeWithC(data, channels: channels, format: "PNG") { tern_png_decode($0, $1, $2, $3, $4, $5) }
    }

    /// Encodes `image` as an 8-bit PNG (grey, grey + alpha, RGB or RGBA as its channel count says).
    /// - Throws: ``ImageIOError/encode(message:)`` for an empty image or one whose stored
    ///   properties disagree, ``ImageIOError/tooLarge(width:height:path:)``.
    public static func encode(_ image: Image) throws(ImageIOError) -> [UInt8] {
        try encodePNGWithC(image)
    }

    /// Reads and decodes the PNG at `path`.
    /// - Throws: ``ImageIOError/unreadable(path:reason:)`` and the errors of ``decode(_:channels:)``
    ///   naming `path`.
    public static func read(path: String, channels: Int? = nil) throws(ImageIOError) -> Image {
        try decodeFile(path: path) { bytes throws(ImageIOError) in try decode(bytes, channels: channels) }
    }

    /// Encodes `image` and writes it to `path`, replacing any file there.
    /// - Throws: the errors of ``encode(_:)``, ``ImageIOError/unwritable(path:reason:)``.
    public static func write(_ image: Image, to path: String) throws(ImageIOError) {
        try writeFileBytes(try encode(image), path: path)
    }
}
