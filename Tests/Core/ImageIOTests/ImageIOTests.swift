// SPDX-License-Identifier: Apache-2.0
//
// Fixtures (Tests/Core/ImageIOTests/Fixtures, described in its README.md):
// - rgb-16x8.jpg, rgb-16x8-progressive.jpg, grey-16x8.jpg were written by a throwaway C program
//   calling libjpeg-turbo 2.1.5's compressor (jpeg_set_quality 95; colour files 4:4:4, i.e. every
//   h/v_samp_factor 1; the progressive one through jpeg_simple_progression). Patterns: RGB, left
//   8x8 block (200, 40, 40) and right 8x8 block (40, 80, 220); grey, pixel (x, y) = 16 x. The same
//   program decoded them with libjpeg: the RGB halves average (200.00, 40.00, 40.00) and
//   (41.00, 80.00, 220.00), the grey rows are exactly 0, 16, ..., 240 (recorded below).
//   cmyk-16x8.jpg came from the same kind of program (JCS_CMYK in and out, so libjpeg wrote an
//   Adobe marker) with samples in Adobe's inverted convention, left (200, 40, 40, 255) and right
//   (40, 80, 220, 255): it must decode to the same RGB blocks (libjpeg: exactly those values).
// - The PNGs were written by a Python script with zlib and struct only (no Pillow): a 2-bit palette
//   with tRNS, an 8-bit palette, 16-bit RGB, 16-bit grey + alpha, 1-bit grey and an Adam7-interlaced
//   8-bit RGB image. 16-bit samples are v * 257, so their 8-bit values are exactly v.

import Foundation
import ImageIO
import Testing

private let fixtureDirectory: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast()
    return parts.joined(separator: "/") + "/Fixtures"
}()

private func fixturePath(_ name: String) -> String { fixtureDirectory + "/" + name }

private func fixture(_ name: String) -> [UInt8] {
    [UInt8](try! Data(contentsOf: URL(fileURLWithPath: fixturePath(name))))
}

/// SplitMix64: deterministic test data and mutations.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private func randomImage(width: Int, height: Int, channels: Int, seed: UInt64) -> Image {
    var rng = SplitMix64(state: seed)
    let pixels = (0..<(width * height * channels)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    return Image(width: width, height: height, channels: channels, pixels: pixels)
}

/// CRC-32 (PNG's, ISO-HDLC) for crafting and repairing chunks.
private let crcTable: [UInt32] = (0..<256).map { n in
    var c = UInt32(n)
    for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
}

private func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    return c ^ 0xFFFF_FFFF
}

private func bigEndian32(_ bytes: [UInt8], at i: Int) -> Int {
    Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
}

private func putBigEndian32(_ value: UInt32, into bytes: inout [UInt8], at i: Int) {
    for k in 0..<4 { bytes[i + k] = UInt8(truncatingIfNeeded: value >> (24 - 8 * k)) }
}

/// Rewrites the CRC of every whole chunk so mutations reach past libpng's CRC check.
private func repairPNGCRCs(_ bytes: inout [UInt8]) {
    var i = 8
    while i + 12 <= bytes.count {
        let length = bigEndian32(bytes, at: i)
        guard length <= bytes.count - i - 12 else { return }
        let crc = crc32(bytes[(i + 4)..<(i + 8 + length)])
        putBigEndian32(crc, into: &bytes, at: i + 8 + length)
        i += 12 + length
    }
}

/// A PNG's IHDR with another size (and a valid CRC).
private func pngWithSize(_ png: [UInt8], width: UInt32, height: UInt32) -> [UInt8] {
    var bytes = png
    putBigEndian32(width, into: &bytes, at: 16)
    putBigEndian32(height, into: &bytes, at: 20)
    repairPNGCRCs(&bytes)
    return bytes
}

/// A JPEG's frame header (SOF0 or SOF2) with another size.
private func jpegWithSize(_ jpeg: [UInt8], width: UInt16, height: UInt16) -> [UInt8] {
    var bytes = jpeg
    let sof = (2..<(bytes.count - 9)).first { bytes[$0] == 0xFF && (bytes[$0 + 1] == 0xC0 || bytes[$0 + 1] == 0xC2) }!
    bytes[sof + 5] = UInt8(height >> 8)
    bytes[sof + 6] = UInt8(height & 0xFF)
    bytes[sof + 7] = UInt8(width >> 8)
    bytes[sof + 8] = UInt8(width & 0xFF)
    return bytes
}

private func temporaryPath(_ name: String) -> String {
    NSTemporaryDirectory() + "/tern-imageio-\(getpid())-\(name)"
}

@Suite("Image: layout, channel conversion, tensors")
struct ImageTests {
    @Test("converted(toChannels:) follows Pillow: luma, replication, alpha dropped or opaque")
    func conversion() {
        let rgb = Image(
            width: 5, height: 1, channels: 3,
            pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 200, 40, 40])
        // Pillow: Image.new("RGB", ...).convert("L") gives 76, 150, 29, 255, 88.
        #expect(rgb.converted(toChannels: 1).pixels == [76, 150, 29, 255, 88])
        #expect(rgb.converted(toChannels: 2).pixels == [76, 255, 150, 255, 29, 255, 255, 255, 88, 255])
        let rgba = rgb.converted(toChannels: 4)
        #expect(rgba.pixels == [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255, 200, 40, 40, 255])
        #expect(rgba.converted(toChannels: 3) == rgb)

        let greyAlpha = Image(width: 2, height: 1, channels: 2, pixels: [10, 0, 200, 128])
        #expect(greyAlpha.converted(toChannels: 1).pixels == [10, 200])
        #expect(greyAlpha.converted(toChannels: 3).pixels == [10, 10, 10, 200, 200, 200])
        #expect(greyAlpha.converted(toChannels: 4).pixels == [10, 10, 10, 0, 200, 200, 200, 128])
        let translucent = Image(width: 1, height: 1, channels: 4, pixels: [255, 0, 0, 7])
        #expect(translucent.converted(toChannels: 2).pixels == [76, 7])
        #expect(translucent.converted(toChannels: 1).pixels == [76])

        let grey = Image(width: 3, height: 2, channels: 1, pixels: [0, 1, 2, 253, 254, 255])
        #expect(grey.converted(toChannels: 3).converted(toChannels: 1) == grey)
        #expect(grey.converted(toChannels: 2).pixels == [0, 255, 1, 255, 2, 255, 253, 255, 254, 255, 255, 255])
        #expect(grey.converted(toChannels: 1) == grey)
    }

    @Test("planarFloats is [channels, height, width] in [0, 1] and inverts exactly")
    func planar() {
        // 2x3 RGB: pixel (x, y) = (x, 10 y, 255).
        var pixels: [UInt8] = []
        for y in 0..<2 { for x in 0..<3 { pixels += [UInt8(x), UInt8(10 * y), 255] } }
        let image = Image(width: 3, height: 2, channels: 3, pixels: pixels)
        let floats = image.planarFloats()
        #expect(floats.count == 18)
        #expect(Array(floats[0..<6]) == [0, 1, 2, 0, 1, 2].map { Float($0) / 255 })
        #expect(Array(floats[6..<12]) == [0, 0, 0, 10, 10, 10].map { Float($0) / 255 })
        #expect(Array(floats[12..<18]) == [Float](repeating: 1, count: 6))
        #expect(Image(planarFloats: floats, channels: 3, height: 2, width: 3) == image)

        let all = randomImage(width: 7, height: 5, channels: 4, seed: 3)
        #expect(Image(planarFloats: all.planarFloats(), channels: 4, height: 5, width: 7) == all)
    }

    @Test("init(planarFloats:) clamps, maps NaN to 0 and rounds to nearest")
    func planarClamping() {
        let image = Image(
            planarFloats: [-1, 2, .nan, 0.5, 1 / 255, 0.499 / 255, .infinity, -.infinity], channels: 1, height: 1,
            width: 8)
        #expect(image.pixels == [0, 255, 0, 128, 1, 0, 255, 0])
    }
}

@Suite("PNG")
struct PNGTests {
    @Test("encode then decode is exact for 1, 2, 3 and 4 channels", arguments: [1, 2, 3, 4])
    func roundTrip(channels: Int) throws {
        for (width, height) in [(1, 1), (7, 5), (64, 3), (3, 64)] {
            let image = randomImage(width: width, height: height, channels: channels, seed: UInt64(channels * 1000 + width))
            let bytes = try PNG.encode(image)
            #expect(ImageFile.format(of: bytes) == .png)
            #expect(try PNG.decode(bytes) == image)
            #expect(try ImageFile.decode(bytes) == image)
        }
    }

    @Test("write then read through a file; decode(channels:) converts like converted(toChannels:)")
    func files() throws {
        let image = randomImage(width: 9, height: 4, channels: 4, seed: 9)
        let path = temporaryPath("roundtrip.png")
        defer { unlink(path) }
        try PNG.write(image, to: path)
        #expect(try PNG.read(path: path) == image)
        #expect(try ImageFile.read(path: path) == image)
        for c in 1...4 { #expect(try PNG.read(path: path, channels: c) == image.converted(toChannels: c)) }
    }

    @Test("palette, 16-bit, low bit depth and interlaced PNGs decode to 8-bit samples")
    func fixtures() throws {
        // 2-bit palette red, green, blue, white with alpha 255, 255, 128, 0: RGBA.
        let palette2 = try PNG.read(path: fixturePath("palette2-4x2.png"))
        #expect(palette2.width == 4 && palette2.height == 2 && palette2.channels == 4)
        let red: [UInt8] = [255, 0, 0, 255], green: [UInt8] = [0, 255, 0, 255]
        let blue: [UInt8] = [0, 0, 255, 128], white: [UInt8] = [255, 255, 255, 0]
        #expect(palette2.pixels == red + green + blue + white + white + blue + green + red)

        let palette8 = try PNG.read(path: fixturePath("palette8-3x2.png"))
        #expect(palette8 == Image(width: 3, height: 2, channels: 3, pixels: [10, 20, 30, 40, 50, 60, 70, 80, 90, 70, 80, 90, 40, 50, 60, 10, 20, 30]))

        let rgb16 = try PNG.read(path: fixturePath("rgb16-3x2.png"))
        #expect(rgb16 == Image(width: 3, height: 2, channels: 3, pixels: [0, 128, 255, 1, 2, 3, 250, 100, 50, 255, 255, 255, 0, 0, 0, 17, 34, 51]))

        let greyAlpha16 = try PNG.read(path: fixturePath("greyalpha16-2x2.png"))
        #expect(greyAlpha16 == Image(width: 2, height: 2, channels: 2, pixels: [0, 255, 100, 128, 200, 0, 255, 255]))

        let grey1 = try PNG.read(path: fixturePath("grey1-8x2.png"))
        #expect(grey1 == Image(width: 8, height: 2, channels: 1, pixels: [255, 0, 255, 0, 255, 0, 255, 0, 0, 0, 0, 0, 255, 255, 255, 255]))

        let interlaced = try PNG.read(path: fixturePath("rgb-interlaced-8x8.png"))
        var expected: [UInt8] = []
        for y in 0..<8 { for x in 0..<8 { expected += [UInt8(32 * x), UInt8(32 * y), UInt8(16 * (x + y))] } }
        #expect(interlaced == Image(width: 8, height: 8, channels: 3, pixels: expected))
        #expect(try PNG.read(path: fixturePath("rgb-interlaced-8x8.png"), channels: 1) == interlaced.converted(toChannels: 1))
    }

    @Test("encode refuses empty and inconsistent images; decode refuses channel counts outside 1...4")
    func argumentErrors() throws {
        #expect(throws: ImageIOError.encode(message: "a PNG cannot hold a 0x3 image")) {
            try PNG.encode(Image(width: 0, height: 3, channels: 1, pixels: []))
        }
        var broken = Image(width: 2, height: 2, channels: 3, filledWith: 7)
        broken.pixels.removeLast()
        #expect(throws: ImageIOError.self) { try PNG.encode(broken) }
        broken.pixels = [UInt8](repeating: 0, count: 12)
        broken.channels = 5
        #expect(throws: ImageIOError.unsupportedChannels(5)) { try PNG.encode(broken) }
        let bytes = try PNG.encode(Image(width: 1, height: 1, channels: 1, pixels: [9]))
        #expect(throws: ImageIOError.unsupportedChannels(0)) { try PNG.decode(bytes, channels: 0) }
        #expect(throws: ImageIOError.unsupportedChannels(5)) { try JPEG.decode(fixture("grey-16x8.jpg"), channels: 5) }
    }

    @Test("an IHDR claiming 20000x20000 is refused as too large before decoding")
    func tooLarge() throws {
        let png = try PNG.encode(randomImage(width: 4, height: 4, channels: 3, seed: 1))
        #expect(throws: ImageIOError.tooLarge(width: 20000, height: 20000, path: nil)) {
            try PNG.decode(pngWithSize(png, width: 20000, height: 20000))
        }
        // Within the limit but without the data: libpng's error, not a crash or a grey image.
        #expect(throws: ImageIOError.self) { try PNG.decode(pngWithSize(png, width: 4000, height: 4000)) }
    }
}

@Suite("JPEG")
struct JPEGTests {
    /// Means recorded when the fixtures were made (libjpeg-turbo 2.1.5, default islow IDCT).
    static let leftMean: [Double] = [200, 40, 40]
    static let rightMean: [Double] = [41, 80, 220]

    private static func halfMeans(_ image: Image) -> (left: [Double], right: [Double]) {
        var left = [Double](repeating: 0, count: image.channels), right = left
        for y in 0..<image.height {
            for x in 0..<image.width {
                for c in 0..<image.channels {
                    let v = Double(image.pixels[(y * image.width + x) * image.channels + c])
                    if x < image.width / 2 { left[c] += v } else { right[c] += v }
                }
            }
        }
        let n = Double(image.width / 2 * image.height)
        return (left.map { $0 / n }, right.map { $0 / n })
    }

    @Test("baseline and progressive RGB fixtures decode to the known blocks", arguments: ["rgb-16x8.jpg", "rgb-16x8-progressive.jpg"])
    func rgb(name: String) throws {
        let image = try JPEG.read(path: fixturePath(name))
        #expect(image.width == 16 && image.height == 8 && image.channels == 3)
        let (left, right) = Self.halfMeans(image)
        for c in 0..<3 {
            #expect(abs(left[c] - Self.leftMean[c]) < 1.5, "left channel \(c): \(left[c])")
            #expect(abs(right[c] - Self.rightMean[c]) < 1.5, "right channel \(c): \(right[c])")
        }
        // Every pixel near the encoded pattern (quality 95, 4:4:4).
        let pattern: [[Int]] = [[200, 40, 40], [40, 80, 220]]
        for y in 0..<8 {
            for x in 0..<16 {
                for c in 0..<3 {
                    let v = Int(image.pixels[(y * 16 + x) * 3 + c])
                    #expect(abs(v - pattern[x < 8 ? 0 : 1][c]) <= 4, "pixel (\(x), \(y)) channel \(c) = \(v)")
                }
            }
        }
        #expect(try JPEG.read(path: fixturePath(name), channels: 1) == image.converted(toChannels: 1))
        #expect(try ImageFile.read(path: fixturePath(name), channels: 4) == image.converted(toChannels: 4))
    }

    @Test("an Adobe CMYK fixture decodes to RGB (inverted CMYK, no black ink)")
    func cmyk() throws {
        let image = try ImageFile.read(path: fixturePath("cmyk-16x8.jpg"))
        #expect(image.width == 16 && image.height == 8 && image.channels == 3)
        let (left, right) = Self.halfMeans(image)
        for c in 0..<3 {
            #expect(abs(left[c] - [200, 40, 40][c]) < 1.5, "left channel \(c): \(left[c])")
            #expect(abs(right[c] - [40, 80, 220][c]) < 1.5, "right channel \(c): \(right[c])")
        }
        #expect(try JPEG.read(path: fixturePath("cmyk-16x8.jpg"), channels: 1) == image.converted(toChannels: 1))
    }

    @Test("greyscale fixture decodes to one channel holding the ramp 16 x")
    func grey() throws {
        let image = try JPEG.read(path: fixturePath("grey-16x8.jpg"))
        #expect(image.width == 16 && image.height == 8 && image.channels == 1)
        for y in 0..<8 {
            for x in 0..<16 {
                let v = Int(image.pixels[y * 16 + x])
                #expect(abs(v - 16 * x) <= 3, "pixel (\(x), \(y)) = \(v)")
            }
        }
        let (left, right) = Self.halfMeans(image)
        #expect(abs(left[0] - 56) < 1 && abs(right[0] - 184) < 1)
        #expect(try JPEG.read(path: fixturePath("grey-16x8.jpg"), channels: 3) == image.converted(toChannels: 3))
    }

    @Test("a frame header claiming 65000x65000 is refused as too large")
    func tooLarge() {
        for name in ["rgb-16x8.jpg", "rgb-16x8-progressive.jpg"] {
            #expect(throws: ImageIOError.tooLarge(width: 65000, height: 65000, path: nil)) {
                try JPEG.decode(jpegWithSize(fixture(name), width: 65000, height: 65000))
            }
            // Within the limit but with 16x8 worth of data: an error, not an image padded with grey.
            #expect(throws: ImageIOError.self) { try JPEG.decode(jpegWithSize(fixture(name), width: 4000, height: 4000)) }
        }
    }
}

@Suite("ImageFile and hostile input")
struct HostileInputTests {
    @Test("the format comes from the magic bytes, not the extension")
    func magicNotExtension() throws {
        let pngAsJPG = temporaryPath("really-a-png.jpg"), jpegAsPNG = temporaryPath("really-a-jpeg.png")
        defer {
            unlink(pngAsJPG)
            unlink(jpegAsPNG)
        }
        try Data(fixture("palette8-3x2.png")).write(to: URL(fileURLWithPath: pngAsJPG))
        try Data(fixture("grey-16x8.jpg")).write(to: URL(fileURLWithPath: jpegAsPNG))
        #expect(try ImageFile.read(path: pngAsJPG) == PNG.read(path: fixturePath("palette8-3x2.png")))
        #expect(try ImageFile.read(path: jpegAsPNG) == JPEG.read(path: fixturePath("grey-16x8.jpg")))
        // The format-specific readers do not guess.
        #expect(throws: ImageIOError.self) { try JPEG.read(path: pngAsJPG) }
    }

    @Test("missing files, directories and non-images are errors naming the path")
    func fileErrors() throws {
        let missing = temporaryPath("does-not-exist.png")
        #expect(throws: ImageIOError.unreadable(path: missing, reason: "No such file or directory")) {
            try ImageFile.read(path: missing)
        }
        #expect(throws: ImageIOError.unreadable(path: fixtureDirectory, reason: "not a regular file")) {
            try ImageFile.read(path: fixtureDirectory)
        }
        let readme = fixturePath("README.md")
        let leading = Array(fixture("README.md").prefix(8))
        #expect(throws: ImageIOError.unknownFormat(path: readme, leadingBytes: leading)) {
            try ImageFile.read(path: readme)
        }
        #expect(throws: ImageIOError.unwritable(path: "/nonexistent-dir/x.png", reason: "No such file or directory")) {
            try PNG.write(Image(width: 1, height: 1, channels: 1), to: "/nonexistent-dir/x.png")
        }
        do {
            _ = try PNG.read(path: fixturePath("grey-16x8.jpg"))
            Issue.record("a JPEG decoded as PNG")
        } catch {
            guard case .decode(let format, let path, _) = error, format == "PNG", path == fixturePath("grey-16x8.jpg") else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(error.description.hasPrefix(fixturePath("grey-16x8.jpg") + ": invalid PNG: "))
        }
    }

    @Test("empty data throws from every decoder")
    func empty() {
        #expect(throws: ImageIOError.decode(format: "PNG", path: nil, message: "empty input")) { try PNG.decode([]) }
        #expect(throws: ImageIOError.decode(format: "JPEG", path: nil, message: "empty input")) { try JPEG.decode([]) }
        #expect(throws: ImageIOError.unknownFormat(path: nil, leadingBytes: [])) { try ImageFile.decode([]) }
    }

    @Test("every truncation of a PNG throws")
    func truncatedPNG() throws {
        for png in [try PNG.encode(randomImage(width: 13, height: 11, channels: 3, seed: 5)), fixture("rgb-interlaced-8x8.png")] {
            for length in 0..<png.count - 12 {  // the last 12 bytes are IEND, which libpng does not need
                #expect(throws: ImageIOError.self, "prefix of \(length) bytes") { try PNG.decode(Array(png.prefix(length))) }
            }
        }
    }

    @Test("every truncation of a JPEG throws (a single-scan file may lack only its EOI marker)")
    func truncatedJPEG() {
        for name in ["rgb-16x8.jpg", "rgb-16x8-progressive.jpg", "grey-16x8.jpg", "cmyk-16x8.jpg"] {
            let jpeg = fixture(name)
            for length in 0..<jpeg.count - 2 {
                #expect(throws: ImageIOError.self, "\(name): prefix of \(length) bytes") {
                    try JPEG.decode(Array(jpeg.prefix(length)))
                }
            }
        }
    }

    @Test("random bytes throw, with or without a valid signature in front")
    func randomBytes() {
        var rng = SplitMix64(state: 42)
        for trial in 0..<300 {
            let noise = (0..<Int.random(in: 0...600, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            switch trial % 3 {
            case 0: #expect(throws: ImageIOError.self) { try PNG.decode([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + noise) }
            case 1: #expect(throws: ImageIOError.self) { try JPEG.decode([0xFF, 0xD8, 0xFF] + noise) }
            default:
                #expect(throws: ImageIOError.self) { try PNG.decode(noise) }
                #expect(throws: ImageIOError.self) { try JPEG.decode(noise) }
            }
        }
    }

    /// A cheap, libFuzzer-free sanity check: 10,000 mutants of every seed (PNGs, half of them with
    /// their CRCs repaired so the damage reaches zlib and the filters, and JPEGs). Each must
    /// decode to a consistent image or throw ``ImageIOError``; a crash fails the whole run.
    @Test("10,000 mutated PNGs and JPEGs decode or throw, never crash")
    func mutations() throws {
        var pngSeeds = try (1...4).map { try PNG.encode(randomImage(width: 8, height: 6, channels: $0, seed: UInt64($0))) }
        pngSeeds += ["palette2-4x2.png", "palette8-3x2.png", "rgb16-3x2.png", "greyalpha16-2x2.png", "grey1-8x2.png", "rgb-interlaced-8x8.png"].map(fixture)
        let jpegSeeds = ["rgb-16x8.jpg", "rgb-16x8-progressive.jpg", "grey-16x8.jpg", "cmyk-16x8.jpg"].map(fixture)
        var rng = SplitMix64(state: 2024)
        var decoded = 0, rejected = 0
        let start = ContinuousClock.now
        for iteration in 0..<10_000 {
            let isPNG = iteration % 2 == 0
            var bytes = isPNG ? pngSeeds[(iteration / 2) % pngSeeds.count] : jpegSeeds[(iteration / 2) % jpegSeeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &rng) { mutate(&bytes, using: &rng) }
            if isPNG && iteration % 4 == 0 { repairPNGCRCs(&bytes) }
            do {
                let image = try iteration % 10 == 1 ? ImageFile.decode(bytes) : isPNG ? PNG.decode(bytes) : JPEG.decode(bytes)
                #expect(image.pixels.count == image.width * image.height * image.channels)
                #expect(image.width * image.height <= Image.maxPixelCount)
                decoded += 1
            } catch {
                #expect(!error.description.isEmpty)
                rejected += 1
            }
        }
        let elapsed = ContinuousClock.now - start
        #expect(decoded + rejected == 10_000)
        #expect(decoded > 0 && rejected > 0, "decoded \(decoded), rejected \(rejected)")
        #expect(elapsed < .seconds(30), "took \(elapsed)")
    }

    private func mutate(_ bytes: inout [UInt8], using rng: inout SplitMix64) {
        guard !bytes.isEmpty else {
            bytes.append(UInt8.random(in: 0...255, using: &rng))
            return
        }
        let i = Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<7, using: &rng) {
        case 0: bytes[i] ^= 1 << UInt8.random(in: 0...7, using: &rng)
        case 1: bytes[i] = UInt8.random(in: 0...255, using: &rng)
        case 2: bytes[i] = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE][Int.random(in: 0..<6, using: &rng)]
        case 3: bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...16, using: &rng)))
        case 4: bytes = Array(bytes.prefix(i))
        case 5:
            let end = min(bytes.count, i + Int.random(in: 1...32, using: &rng))
            bytes.insert(contentsOf: bytes[i..<end], at: Int.random(in: 0...bytes.count, using: &rng))
        default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: i)
        }
    }
}
