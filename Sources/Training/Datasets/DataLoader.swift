// SPDX-License-Identifier: Apache-2.0

public import Support
public import Tensors

/// Random image augmentations applied per sample by ``DataLoader``.
public struct Augmentation: Sendable {
    /// Zero-pad by this many pixels, then crop back to the original size at a random offset.
    public var cropPadding: Int = 0
    /// Probability of a horizontal flip.
    public var flipProbability: Float = 0
    /// Standard deviation of added Gaussian noise.
    public var noiseStd: Float = 0
    public init(cropPadding: Int = 0, flipProbability: Float = 0, noiseStd: Float = 0) {
        self.cropPadding = cropPadding; self.flipProbability = flipProbability; self.noiseStd = noiseStd
    }
    public var isIdentity: Bool { cropPadding == 0 && flipProbability == 0 && noiseStd == 0 }
}

/// Batches of an ``ImageDataset``: optional shuffling each epoch and augmentation, drawn from a
/// seeded generator so runs repeat exactly.
///
/// ```swift
/// var loader = DataLoader(train, batchSize: 64, shuffle: true, seed: 1)
/// for (images, labels) in loader.epoch() { … }   // images [64, C, H, W]
/// ```
public struct DataLoader: Sendable {
    public let dataset: ImageDataset
    public let batchSize: Int
    public var shuffle: Bool
    public var dropLast: Bool
    public var augmentation: Augmentation
    public var generator: SeededRandom

    public init(_ dataset: ImageDataset, batchSize: Int, shuffle: Bool = false, dropLast: Bool = false,
                augmentation: Augmentation = .init(), seed: UInt64 = 0) {
        self.dataset = dataset; self.batchSize = batchSize; self.shuffle = shuffle; self.dropLast = dropLast
        self.augmentation = augmentation
        generator = SeededRandom(seed: seed)
    }

    /// Number of batches per epoch.
    public var batchCount: Int { dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize }

    /// The batches of one epoch (order and augmentation drawn now).
    public mutating func epoch() -> [(images: Tensor, labels: [Int32])] {
        var order = Array(0..<dataset.count)
        if shuffle { order.shuffle(using: &generator) }
        var out: [(Tensor, [Int32])] = []
        out.reserveCapacity(batchCount)
        for b in 0..<batchCount {
            let idx = Array(order[(b * batchSize)..<Swift.min((b + 1) * batchSize, order.count)])
            out.append(batch(idx))
        }
        return out
    }

    /// The samples at `indices` as one augmented batch.
    public mutating func batch(_ indices: [Int]) -> (images: Tensor, labels: [Int32]) {
        var images = dataset.images.indexSelected(alongAxis: 0, indices.map { Int32($0) })
        if !augmentation.isIdentity { images = augment(images) }
        return (images, indices.map { dataset.labels[$0] })
    }

    mutating func augment(_ x: Tensor) -> Tensor {
        var x = x
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let pad = augmentation.cropPadding
        var src = x
        x.withUnsafeMutableBufferPointer { dst in
            src.withUnsafeMutableBufferPointer { s in
                for i in 0..<n {
                    let dy = pad > 0 ? Int(generator.next() % UInt64(2 * pad + 1)) - pad : 0
                    let dx = pad > 0 ? Int(generator.next() % UInt64(2 * pad + 1)) - pad : 0
                    let flip = augmentation.flipProbability > 0 && generator.nextFloat() < augmentation.flipProbability
                    for ch in 0..<c {
                        let base = (i * c + ch) * h * w
                        for y in 0..<h {
                            for xx in 0..<w {
                                let sy = y + dy, sxRaw = xx + dx
                                let sx = flip ? (w - 1 - sxRaw) : sxRaw
                                var v: Float = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? s[base + sy * w + sx] : 0
                                if augmentation.noiseStd > 0 { v += augmentation.noiseStd * generator.nextNormal() }
                                dst[base + y * w + xx] = v
                            }
                        }
                    }
                }
            }
        }
        return x
    }
}
