// SPDX-License-Identifier: Apache-2.0

import CImageCodecs

/// JPEG decoding through libjpeg (libjpeg-turbo on Debian).
///
/// Baseline and progressive files are accepted; greyscale files decode to one channel, colour
/// files to RGB, CMYK/YCCK files to RGB (Adobe's inverted CMYK). The output matches libjpeg's
/// defaults (islow IDCT, fancy upsampling), as Pillow's does. Unlike libjpeg's own behaviour, a
/// truncated file is an error rather than an image padded with grey (a file lacking only its
/// final EOI marker is accepted when it has a single scan); a progressive file with more than 256
/// scans is refused.
public enum JPEG {
    /// Decodes a JPEG held in memory.
    /// - Parameter channels: the layout wanted (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA), or nil
    ///   for the file's own (1 or 3); conversion follows ``Image/converted(toChannels:)``.
    /// - Throws: ``ImageIOError/decode(format:path:message:)`` with libjpeg's message,
    ///   ``ImageIOError/tooLarge(width:height:path:)`` or ``ImageIOError/unsupportedChannels(_:)``.
    public static func decode(_ data: [UInt8], channels: Int? = nil) throws(ImageIOError) -> Image {
        try decodeWithC(data, channels: channels, format: "JPEG") { tern_jpeg_decode($0, $1, $2, $3, $4, $5) }
    }

    /// Reads and decodes the JPEG at `path`.
    /// - Throws: ``ImageIOError/unreadable(path:reason:)`` and the errors of ``decode(_:channels:)``
    ///   naming `path`.
    public static func read(path: String, channels: Int? = nil) throws(ImageIOError) -> Image {
        try decodeFile(path: path) { bytes throws(ImageIOError) in try decode(bytes, channels: channels) }
    }
}
