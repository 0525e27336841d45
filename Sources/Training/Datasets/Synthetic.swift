// SPDX-License-Identifier: Apache-2.0

import Support
public import Tensors

/// Seeded synthetic datasets; other systems add their own generators beside these.
public enum Synthetic {
    /// `classes` Gaussian blobs in `dimension` dimensions: features `[N, dimension]`, labels `[N]`.
    public static func blobs(count: Int, classes: Int, dimension: Int, spread: Float = 0.5, seed: UInt64) -> (features: Tensor, labels: [Int32]) {
        var g = SeededRandom(seed: seed)
        let centers = Tensor.normal([classes, dimension], std: 2, generator: &g).scalars
        var x = [Float](), y = [Int32]()
        for i in 0..<count {
            let c = i % classes
            for d in 0..<dimension { x.append(centers[c * dimension + d] + spread * g.nextNormal()) }
            y.append(Int32(c))
        }
        return (Tensor(shape: [count, dimension], scalars: x), y)
    }

    /// Two interleaved spirals in 2-D (a classic non-linear toy problem).
    public static func spirals(count: Int, noise: Float = 0.05, seed: UInt64) -> (features: Tensor, labels: [Int32]) {
        var g = SeededRandom(seed: seed)
        var x = [Float](), y = [Int32]()
        for i in 0..<count {
            let c = i % 2
            let t = Float(i / 2) / Float(max(count / 2, 1)) * 3 * .pi
            let r = t / (3 * .pi)
            let sign: Float = c == 0 ? 1 : -1
            x.append(sign * r * cosf(t) + noise * g.nextNormal())
            x.append(sign * r * sinf(t) + noise * g.nextNormal())
            y.append(Int32(c))
        }
        return (Tensor(shape: [count, 2], scalars: x), y)
    }

    /// Grey `size × size` images of three shapes (0 filled square, 1 filled disc, 2 horizontal bar)
    /// at random positions and scales, with noise.
    public static func shapes(count: Int, size: Int = 16, noise: Float = 0.1, seed: UInt64) -> ImageDataset {
        var g = SeededRandom(seed: seed)
        var t = Tensor(shape: [count, 1, size, size], repeating: 0)
        var labels = [Int32]()
        t.withUnsafeMutableBufferPointer { p in
            for i in 0..<count {
                let kind = i % 3
                let r = Float(size) * (0.15 + 0.15 * g.nextFloat())
                let cx = Float(size) * (0.3 + 0.4 * g.nextFloat()), cy = Float(size) * (0.3 + 0.4 * g.nextFloat())
                for y in 0..<size {
                    for x in 0..<size {
                        let dx = Float(x) + 0.5 - cx, dy = Float(y) + 0.5 - cy
                        let inside: Bool
                        switch kind {
                        case 0: inside = Swift.abs(dx) < r && Swift.abs(dy) < r
                        case 1: inside = dx * dx + dy * dy < r * r
                        default: inside = Swift.abs(dx) < 1.6 * r && Swift.abs(dy) < 0.4 * r
                        }
                        p[(i * size + y) * size + x] = (inside ? 1 : 0) + noise * g.nextNormal()
                    }
                }
                labels.append(Int32(kind))
            }
        }
        return ImageDataset(images: t, labels: labels, classes: 3)
    }
}

#if canImport(Glibc)
import Glibc
#endif
