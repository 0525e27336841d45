// SPDX-License-Identifier: Apache-2.0

import Support
public import Datasets
public import Tensors

/// The in-distribution task and the OOD test sets, all built offline from installed data.
///
/// ID: Fashion-MNIST restricted to the classes not held out (relabelled `0..<N` in order).
/// OOD sets (each `[M, 1, 28, 28]` in `[0, 1]` before normalization):
/// - `digits`: scikit-learn's 8 × 8 handwritten digits, bilinearly upscaled to 20 × 20 and centred
///   in 28 × 28 (MNIST's layout): the MNIST-like far-OOD set;
/// - `gaussian`: `N(0.5, 0.25²)` pixels clipped to `[0, 1]`; `uniform`: `U(0, 1)` pixels;
/// - `inverted`: `1 − x` of ID test images; `rotated`: ID test images rotated by 90°
///   (180° would leave trousers, bags and dresses nearly unchanged);
/// - `held-out`: test images of the held-out Fashion-MNIST classes (near-OOD).
public struct OODBenchmarkData: Sendable {
    public var train: ImageDataset
    public var test: ImageDataset
    /// OOD sets by name, in report order.
    public var ood: [(name: String, images: Tensor)]
    /// Original Fashion-MNIST ids of the ID classes.
    public var idClasses: [Int]

    /// Builds the data. `trainCount` / `testCount` / `oodCount` of 0 mean "all".
    public static func make(fashionTrain: ImageDataset, fashionTest: ImageDataset, digits: ImageDataset?, heldOut: [Int],
                            trainCount: Int, testCount: Int, oodCount: Int, seed: UInt64) -> OODBenchmarkData {
        let idClasses = (0..<fashionTrain.classes).filter { !heldOut.contains($0) }
        var remap = [Int32](repeating: -1, count: fashionTrain.classes)
        for (i, c) in idClasses.enumerated() { remap[c] = Int32(i) }
        func select(_ d: ImageDataset, keep: (Int32) -> Bool, limit: Int) -> (Tensor, [Int32]) {
            var idx = d.labels.indices.filter { keep(d.labels[$0]) }
            if limit > 0 { idx = Array(idx.prefix(limit)) }
            return (d.images.indexSelected(alongAxis: 0, idx.map { Int32($0) }), idx.map { d.labels[$0] })
        }
        let isID: (Int32) -> Bool = { remap[Int($0)] >= 0 }
        let (trX, trY) = select(fashionTrain, keep: isID, limit: trainCount)
        // ID test images come first; the inverted and rotated sets use the test images after them.
        let (allTeX, allTeY) = select(fashionTest, keep: isID, limit: 0)
        let nTest = testCount > 0 ? Swift.min(testCount, allTeY.count / 2) : allTeY.count / 2
        let m = oodCount > 0 ? oodCount : nTest
        let teX = allTeX.sliced(alongAxis: 0, 0..<nTest)
        let teY = allTeY[0..<nTest].map { remap[Int($0)] }
        let spare = allTeX.sliced(alongAxis: 0, nTest..<Swift.min(allTeY.count, nTest + m))
        var g = SeededRandom(seed: seed)
        var ood: [(name: String, images: Tensor)] = []
        if let digits {
            let d = digits.images.sliced(alongAxis: 0, 0..<Swift.min(m, digits.count))
            ood.append(("digits", centred(resizeBilinear(d, to: 20), size: 28)))
        }
        ood.append(("gaussian", Tensor.normal([m, 1, 28, 28], mean: 0.5, std: 0.25, generator: &g).clamped(0, 1)))
        ood.append(("uniform", Tensor.uniform([m, 1, 28, 28], generator: &g)))
        ood.append(("inverted", 1 - spare))
        ood.append(("rotated", rotated90(spare)))
        if !heldOut.isEmpty {
            let (hX, _) = select(fashionTest, keep: { heldOut.contains(Int($0)) }, limit: m)
            ood.append(("held-out", hX))
        }
        return OODBenchmarkData(train: ImageDataset(images: trX, labels: trY.map { remap[Int($0)] }, classes: idClasses.count),
                                test: ImageDataset(images: teX, labels: teY, classes: idClasses.count),
                                ood: ood, idClasses: idClasses)
    }

    /// Every image set normalized with the same `(x − mean)/std` (Fashion-MNIST statistics by default).
    public func normalized(mean: Float = 0.2860, std: Float = 0.3530) -> OODBenchmarkData {
        var out = self
        out.train = train.normalized(mean: mean, std: std)
        out.test = test.normalized(mean: mean, std: std)
        out.ood = ood.map { (name: $0.name, images: $0.images.affine(scale: 1 / std, shift: -mean / std)) }
        return out
    }

    /// Bilinear resize of `[N, C, h, w]` to `[N, C, s, s]` (align-corners sampling).
    static func resizeBilinear(_ x: Tensor, to s: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let src = x.scalars
        var out = [Float](repeating: 0, count: n * c * s * s)
        for p in 0..<(n * c) {
            for y in 0..<s {
                let fy = Float(y) * Float(h - 1) / Float(s - 1), y0 = Int(fy), y1 = Swift.min(y0 + 1, h - 1), ay = fy - Float(y0)
                for xx in 0..<s {
                    let fx = Float(xx) * Float(w - 1) / Float(s - 1), x0 = Int(fx), x1 = Swift.min(x0 + 1, w - 1), ax = fx - Float(x0)
                    let base = p * h * w
                    let top = src[base + y0 * w + x0] * (1 - ax) + src[base + y0 * w + x1] * ax
                    let bottom = src[base + y1 * w + x0] * (1 - ax) + src[base + y1 * w + x1] * ax
                    out[(p * s + y) * s + xx] = top * (1 - ay) + bottom * ay
                }
            }
        }
        return Tensor(shape: [n, c, s, s], scalars: out)
    }

    /// Zero-pads `[N, C, s, s]` to `[N, C, size, size]` with the image in the centre.
    static func centred(_ x: Tensor, size: Int) -> Tensor {
        let off = (size - x.shape[2]) / 2
        return x.embedded(alongAxis: 2, offset: off, size: size).embedded(alongAxis: 3, offset: off, size: size)
    }

    /// Rotates `[N, C, H, W]` (square) by 90° counter-clockwise.
    static func rotated90(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(h == w, "rotated90: \(x.shape)")
        let src = x.scalars
        var out = [Float](repeating: 0, count: src.count)
        for p in 0..<(n * c) { for y in 0..<h { for xx in 0..<w {
            out[p * h * w + (w - 1 - xx) * w + y] = src[p * h * w + y * w + xx]
        } } }
        return Tensor(shape: x.shape, scalars: out)
    }
}
