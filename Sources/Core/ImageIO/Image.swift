// SPDX-License-Identifier: Apache-2.0

/// An 8-bit image held in memory: `height` rows of `width` pixels of `channels` interleaved samples.
///
/// Channel layouts: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA. ``pixels`` is row-major with shape
/// `[height, width, channels]`, top row first: sample `c` of pixel `(x, y)` is
/// `pixels[(y * width + x) * channels + c]`. Alpha is straight (not premultiplied).
///
/// ```swift
/// let image = try ImageFile.read(path: "cat.jpg", channels: 3)
/// let tensor = image.planarFloats() // [3, height, width] in [0, 1]
/// ```
public struct Image: Sendable, Equatable {
    /// Pixels per row.
    public var width: Int
    /// Number of rows.
    public var height: Int
    /// Samples per pixel: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
    public var channels: Int
    /// `height * width * channels` samples, row-major, interleaved.
    public var pixels: [UInt8]

    /// The most pixels (`width * height`) a decoder accepts or the PNG encoder writes: 2^28,
    /// 1 GiB as RGBA. Larger images throw ``ImageIOError/tooLarge(width:height:path:)`` before any
    /// pixel memory is allocated, so a small hostile file cannot demand gigabytes.
    public static let maxPixelCount = 1 << 28

    /// Wraps existing samples.
    /// - Precondition: `width` and `height` are not negative, `channels` is 1...4 and
    ///   `pixels.count == width * height * channels`.
    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "image size \(width)x\(height) is negative")
        precondition((1...4).contains(channels), "channel count \(channels) is not 1...4")
        precondition(
            pixels.count == width * height * channels,
            "\(pixels.count) samples for a \(width)x\(height) image with \(channels) channels (need \(width * height * channels))")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// An image with every sample set to `value`.
    public init(width: Int, height: Int, channels: Int, filledWith value: UInt8 = 0) {
        precondition(width >= 0 && height >= 0, "image size \(width)x\(height) is negative")
        self.init(
            width: width, height: height, channels: channels,
            pixels: [UInt8](repeating: value, count: width * height * max(channels, 0)))
    }

    /// Whether the stored properties agree (they are `var`, so a caller can break them).
    var isConsistent: Bool {
        guard width >= 0, height >= 0, (1...4).contains(channels) else { return false }
        let (area, o1) = width.multipliedReportingOverflow(by: height)
        let (count, o2) = area.multipliedReportingOverflow(by: channels)
        return !o1 && !o2 && pixels.count == count
    }

    private func checkConsistent() {
        precondition(
            isConsistent,
            "inconsistent image: \(pixels.count) samples for \(width)x\(height) with \(channels) channels")
    }

    /// The same image with another channel layout.
    ///
    /// The rules are Pillow's `Image.convert`, so tensors match Python pipelines: grey is
    /// ITU-R 601-2 luma `(19595 R + 38470 G + 7471 B + 32768) >> 16` of the sRGB values (no
    /// gamma decoding); grey becomes RGB by copying; alpha is dropped without compositing, and
    /// added as 255 (opaque).
    /// - Parameter target: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
    public func converted(toChannels target: Int) -> Image {
        precondition((1...4).contains(target), "channel count \(target) is not 1...4")
        checkConsistent()
        if target == channels { return self }
        let count = width * height
        let source = channels
        let colourIn = source >= 3, alphaIn = source == 2 || source == 4
        let colourOut = target >= 3, alphaOut = target == 2 || target == 4
        var out = [UInt8](repeating: 0, count: count * target)
        pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                for i in 0..<count {
                    let p = i * source, q = i * target
                    if colourOut {
                        if colourIn {
                            d[q] = s[p]
                            d[q + 1] = s[p + 1]
                            d[q + 2] = s[p + 2]
                        } else {
                            d[q] = s[p]
                            d[q + 1] = s[p]
                            d[q + 2] = s[p]
                        }
                    } else {
                        d[q] = colourIn ? Self.luma(s[p], s[p + 1], s[p + 2]) : s[p]
                    }
                    if alphaOut { d[q + target - 1] = alphaIn ? s[p + source - 1] : 255 }
                }
            }
        }
        return Image(width: width, height: height, channels: target, pixels: out)
    }

    /// ITU-R 601-2 luma with Pillow's fixed-point rounding.
    @inline(__always)
    static func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        UInt8(truncatingIfNeeded: (UInt32(r) * 19595 + UInt32(g) * 38470 + UInt32(b) * 7471 + 0x8000) >> 16)
    }

    /// The samples as floats in [0, 1] (`value / 255`), planar: shape `[channels, height, width]`,
    /// the layout of an image tensor.
    public func planarFloats() -> [Float] {
        checkConsistent()
        let plane = width * height
        let c = channels
        var out = [Float](repeating: 0, count: plane * c)
        pixels.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                for i in 0..<plane {
                    for k in 0..<c { d[k * plane + i] = Float(s[i * c + k]) / 255 }
                }
            }
        }
        return out
    }

    /// An image from planar floats of shape `[channels, height, width]`, the inverse of
    /// ``planarFloats()``: each value is clamped to [0, 1] (NaN becomes 0), scaled by 255 and
    /// rounded to the nearest integer.
    /// - Precondition: `planarFloats.count == channels * height * width` and `channels` is 1...4.
    public init(planarFloats: [Float], channels: Int, height: Int, width: Int) {
        precondition(width >= 0 && height >= 0, "image size \(width)x\(height) is negative")
        precondition((1...4).contains(channels), "channel count \(channels) is not 1...4")
        let plane = width * height
        precondition(
            planarFloats.count == plane * channels,
            "\(planarFloats.count) floats for [\(channels), \(height), \(width)] (need \(plane * channels))")
        var out = [UInt8](repeating: 0, count: plane * channels)
        planarFloats.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                for i in 0..<plane {
                    for k in 0..<channels {
                        let v = s[k * plane + i]
                        let clamped: Float = v.isNaN ? 0 : min(max(v, 0), 1)
                        d[i * channels + k] = UInt8((clamped * 255).rounded(.toNearestOrAwayFromZero))
                    }
                }
            }
        }
        self.init(width: width, height: height, channels: channels, pixels: out)
    }
}
