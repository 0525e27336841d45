// SPDX-License-Identifier: Apache-2.0

import ImageIO
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

/// Natural photographs from scikit-image's `skimage/data` (PNG, copied out of the wheel by
/// `scripts/fetch-data.sh` into `$TERN_HOME/data/images/<name>.png`), decoded by ``ImageIO``.
public enum SampleImages {
    public static var directory: String { DataDirectory.path + "/images" }

    /// Names of the images present (`camera.png`, ...).
    public static func available(directory: String = SampleImages.directory) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix(".png") || $0.hasSuffix(".jpg") || $0.hasSuffix(".jpeg") }.sorted()
    }

    /// Loads `name` (e.g. `camera.png`; PNG or JPEG by content) as `[C, H, W]` in `[0, 1]`: grey
    /// images have one channel, colour images three (alpha is dropped).
    public static func load(_ name: String, directory: String = SampleImages.directory) throws -> Tensor {
        let path = directory + "/" + name
        guard FileManager.default.fileExists(atPath: path) else { throw DatasetError.missingFile(path) }
        var image = try ImageFile.read(path: path)
        if image.channels == 2 || image.channels == 4 { image = image.converted(toChannels: image.channels - 1) }
        return Tensor(shape: [image.channels, image.height, image.width], scalars: image.planarFloats())
    }
}
