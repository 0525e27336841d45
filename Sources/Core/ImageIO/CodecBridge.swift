// SPDX-License-Identifier: Apache-2.0

import CImageCodecs

/// Bytes for a C codec's message (including the terminating NUL).
private let messageCapacity = 256

/// The C decoder signature shared by `tern_png_decode` and `tern_jpeg_decode`.
typealias CDecoder = (
    UnsafePointer<UInt8>?, Int, Int32, UnsafeMutablePointer<tern_decoded_image>?, UnsafeMutablePointer<CChar>?, Int
) -> Int32

/// Runs a C decoder in the file's own layout, copies its pixels into Swift memory and frees
/// them, and converts to `channels` when asked (the conversion is ``Image/converted(toChannels:)``
/// for every format, so PNG and JPEG agree).
func decodeWithC(
    _ data: [UInt8], channels: Int?, format: String, _ decoder: CDecoder
) throws(ImageIOError) -> Image {
    if let channels, !(1...4).contains(channels) { throw .unsupportedChannels(channels) }
    var out = tern_decoded_image()
    var message = [CChar](repeating: 0, count: messageCapacity)
    let code = data.withUnsafeBufferPointer { bytes in
        message.withUnsafeMutableBufferPointer { text in
            decoder(bytes.baseAddress, bytes.count, 0, &out, text.baseAddress, text.count)
        }
    }
    defer { tern_image_free(out.pixels) }
    guard code == Int32(TERN_IMAGE_OK) else {
        if code == Int32(TERN_IMAGE_ERR_TOO_LARGE) {
            throw .tooLarge(width: Int(out.width), height: Int(out.height), path: nil)
        }
        throw .decode(format: format, path: nil, message: string(message))
    }
    let width = Int(out.width), height = Int(out.height), native = Int(out.channels)
    guard let pixels = out.pixels, width > 0, height > 0, (1...4).contains(native) else {
        throw .decode(format: format, path: nil, message: "decoder returned an empty \(width)x\(height) image")
    }
    let image = Image(
        width: width, height: height, channels: native,
        pixels: Array(UnsafeBufferPointer(start: pixels, count: width * height * native)))
    guard let channels, channels != native else { return image }
    return image.converted(toChannels: channels)
}

/// Encodes with `tern_png_encode`, after checking that the image's stored properties agree (the
/// C side reads `width * height * channels` bytes).
func encodePNGWithC(_ image: Image) throws(ImageIOError) -> [UInt8] {
    guard (1...4).contains(image.channels) else { throw .unsupportedChannels(image.channels) }
    guard image.isConsistent else {
        throw .encode(
            message: "\(image.pixels.count) samples for a \(image.width)x\(image.height) image with \(image.channels) channels")
    }
    guard image.width > 0, image.height > 0 else {
        throw .encode(message: "a PNG cannot hold a \(image.width)x\(image.height) image")
    }
    guard image.width * image.height <= Image.maxPixelCount else {
        throw .tooLarge(width: image.width, height: image.height, path: nil)
    }
    var out: UnsafeMutablePointer<UInt8>? = nil
    var size = 0
    var message = [CChar](repeating: 0, count: messageCapacity)
    let code = image.pixels.withUnsafeBufferPointer { samples in
        message.withUnsafeMutableBufferPointer { text in
            tern_png_encode(
                samples.baseAddress, Int32(image.width), Int32(image.height), Int32(image.channels), &out, &size,
                text.baseAddress, text.count)
        }
    }
    defer { tern_image_free(out) }
    guard code == Int32(TERN_IMAGE_OK), let out else {
        if code == Int32(TERN_IMAGE_ERR_TOO_LARGE) {
            throw .tooLarge(width: image.width, height: image.height, path: nil)
        }
        throw .encode(message: string(message))
    }
    return Array(UnsafeBufferPointer(start: out, count: size))
}

private func string(_ message: [CChar]) -> String {
    let bytes = message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    return bytes.isEmpty ? "unknown error" : String(decoding: bytes, as: UTF8.self)
}
