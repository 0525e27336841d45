// SPDX-License-Identifier: Apache-2.0

public import Tensors
public import Foundation

/// An in-memory labelled image set: `images [N, C, H, W]` in `[0, 1]` and one label per image.
public struct ImageDataset: Sendable {
    /// `[N, C, H, W]`.
    public var images: Tensor
    public var labels: [Int32]
    public var classes: Int

    public init(images: Tensor, labels: [Int32], classes: Int) {
        precondition(images.rank == 4 && images.shape[0] == labels.count, "ImageDataset: \(images.shape) with \(labels.count) labels")
        self.images = images; self.labels = labels; self.classes = classes
    }

    public var count: Int { labels.count }

    /// The first `n` samples.
    public func prefix(_ n: Int) -> ImageDataset {
        let k = Swift.min(n, count)
        return ImageDataset(images: images.sliced(alongAxis: 0, 0..<k), labels: Array(labels[0..<k]), classes: classes)
    }

    /// Normalizes every pixel: `(x − mean) / std`.
    public func normalized(mean: Float, std: Float) -> ImageDataset {
        ImageDataset(images: images.affine(scale: 1 / std, shift: -mean / std), labels: labels, classes: classes)
    }
}

/// Fashion-MNIST (Xiao et al. 2017): 60,000 training and 10,000 test 28×28 grey images of ten
/// clothing classes, read from the IDX files of Debian's `dataset-fashion-mnist`.
public enum FashionMNIST {
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// Default directory: `$TERN_HOME/data/fashion-mnist`.
    public static var directory: String { DataDirectory.path + "/fashion-mnist" }

    /// Loads the training (`train-*`) or test (`t10k-*`) split from `directory`.
    public static func load(train: Bool, directory: String = FashionMNIST.directory) throws -> ImageDataset {
        let prefix = directory + "/" + (train ? "train" : "t10k")
        return try loadIDX(images: prefix + "-images-idx3-ubyte", labels: prefix + "-labels-idx1-ubyte")
    }

    /// Loads an IDX image file `[N, H, W]` and its IDX label file `[N]`.
    public static func loadIDX(images: String, labels: String) throws -> ImageDataset {
        let (dims, pixels) = try IDX.read(path: images)
        let (ldims, lbytes) = try IDX.read(path: labels)
        guard dims.count == 3, ldims.count == 1, dims[0] == ldims[0] else {
            throw DatasetError.mismatchedCounts(images: dims.first ?? 0, labels: ldims.first ?? 0)
        }
        var t = Tensor(uninitializedShape: [dims[0], 1, dims[1], dims[2]])
        t.withUnsafeMutableBufferPointer { p in for i in 0..<pixels.count { p[i] = Float(pixels[i]) / 255 } }
        return ImageDataset(images: t, labels: lbytes.map { Int32($0) }, classes: 10)
    }
}

/// The 8×8 handwritten digits of scikit-learn (1,797 images, pixel values 0–16), from the
/// `digits.csv` shipped in its wheel (64 pixel columns then the label).
public enum Digits {
    public static var path: String { DataDirectory.path + "/digits/digits.csv" }

    public static func load(path: String = Digits.path) throws -> ImageDataset {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw DatasetError.missingFile(path) }
        return try parse(text, path: path)
    }

    public static func parse(_ text: String, path: String = "<memory>") throws -> ImageDataset {
        var pixels: [Float] = []
        var labels: [Int32] = []
        for (i, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",")
            guard fields.count == 65 else { throw DatasetError.malformed(path: path, line: i + 1) }
            for f in fields.prefix(64) {
                guard let v = Float(f.trimmingCharacters(in: .whitespaces)) else { throw DatasetError.malformed(path: path, line: i + 1) }
                pixels.append(v / 16)
            }
            guard let l = Float(fields[64].trimmingCharacters(in: .whitespaces)) else { throw DatasetError.malformed(path: path, line: i + 1) }
            labels.append(Int32(l))
        }
        return ImageDataset(images: Tensor(shape: [labels.count, 1, 8, 8], scalars: pixels), labels: labels, classes: 10)
    }
}

/// Natural photographs from scikit-image's `skimage/data`, converted to binary PGM/PPM by
/// `scripts/fetch-data.sh` (`$TERN_HOME/data/images/<name>.pgm|ppm`).
public enum SampleImages {
    public static var directory: String { DataDirectory.path + "/images" }

    /// Names of the converted images present.
    public static func available(directory: String = SampleImages.directory) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".pgm") || $0.hasSuffix(".ppm") }.sorted()
    }

    /// Loads `name` (e.g. `camera.pgm`) as `[C, H, W]` in `[0, 1]`.
    public static func load(_ name: String, directory: String = SampleImages.directory) throws -> Tensor {
        let path = directory + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError.missingFile(path) }
        return try Netpbm.parse(data, path: path)
    }
}

/// Binary netpbm images: P5 (grey) and P6 (RGB), 8-bit.
public enum Netpbm {
    /// Parses to `[C, H, W]` in `[0, 1]`.
    public static func parse(_ data: Data, path: String = "<memory>") throws -> Tensor {
        let bytes = [UInt8](data)
        var pos = 0
        func token() throws -> String {
            while pos < bytes.count {
                if bytes[pos] == UInt8(ascii: "#") { while pos < bytes.count && bytes[pos] != 10 { pos += 1 } }
                else if bytes[pos] == 32 || bytes[pos] == 10 || bytes[pos] == 13 || bytes[pos] == 9 { pos += 1 }
                else { break }
            }
            let start = pos
            while pos < bytes.count, ![32, 10, 13, 9].contains(bytes[pos]) { pos += 1 }
            guard pos > start else { throw DatasetError.malformed(path: path, line: 0) }
            return String(decoding: bytes[start..<pos], as: UTF8.self)
        }
        let magic = try token()
        guard magic == "P5" || magic == "P6", let w = Int(try token()), let h = Int(try token()), let maxv = Int(try token()), maxv < 256
        else { throw DatasetError.malformed(path: path, line: 0) }
        pos += 1  // one whitespace byte after maxval
        let c = magic == "P6" ? 3 : 1
        guard bytes.count - pos >= w * h * c else { throw DatasetError.truncated(path: path, expected: pos + w * h * c, found: bytes.count) }
        var t = Tensor(uninitializedShape: [c, h, w])
        t.withUnsafeMutableBufferPointer { p in
            for y in 0..<h { for x in 0..<w { for ch in 0..<c {
                p[(ch * h + y) * w + x] = Float(bytes[pos + (y * w + x) * c + ch]) / Float(maxv)
            } } }
        }
        return t
    }
}
