// SPDX-License-Identifier: Apache-2.0

import Datasets
import Foundation
import Tensors
import Testing

let fixtures: String = {
    var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast()
    return parts.joined(separator: "/") + "/Fixtures"
}()

@Suite("Dataset parsers on committed fixtures")
struct FixtureTests {
    @Test func idx() throws {
        let d = try FashionMNIST.loadIDX(images: fixtures + "/tiny-images-idx3-ubyte", labels: fixtures + "/tiny-labels-idx1-ubyte")
        #expect(d.images.shape == [3, 1, 2, 4])
        #expect(d.labels == [7, 0, 9])
        #expect(d.images[0, 0, 0, 1] == 1 && d.images[0, 0, 0, 0] == 0)
        #expect(abs(d.images[2, 0, 1, 3] - 6 / 255) < 1e-7)
    }

    @Test func idxErrors() throws {
        var bad = try #require(FileManager.default.contents(atPath: fixtures + "/tiny-images-idx3-ubyte"))
        #expect(throws: DatasetError.truncated(path: "<memory>", expected: 16 + 24, found: 30)) { try IDX.parse(bad.prefix(30)) }
        bad[2] = 0x0D  // float data type
        #expect(throws: DatasetError.badMagic(path: "<memory>", found: 0x0000_0D03)) { try IDX.parse(bad) }
        #expect(throws: DatasetError.missingFile("/nonexistent")) { try IDX.read(path: "/nonexistent") }
    }

    @Test func digitsAndPNG() throws {
        let d = try Digits.load(path: fixtures + "/tiny-digits.csv")
        #expect(d.images.shape == [3, 1, 8, 8] && d.labels == [0, 1, 2])
        #expect(d.images[1, 0, 0, 1] == Float(6) / 16)
        #expect(throws: DatasetError.malformed(path: "<memory>", line: 1)) { try Digits.parse("1,2,3\n") }
        // tiny-grey.png: 3x2 grey 0, 51, ..., 255; tiny-rgba.png: red (alpha 128) and blue; both
        // written by zlib + struct (see Fixtures/README.md).
        let grey = try SampleImages.load("tiny-grey.png", directory: fixtures)
        #expect(grey.shape == [1, 2, 3] && grey.scalars == [0, 0.2, 0.4, 0.6, 0.8, 1])
        let rgb = try SampleImages.load("tiny-rgba.png", directory: fixtures)
        #expect(rgb.shape == [3, 1, 2] && rgb.scalars == [1, 0, 0, 0, 0, 1])
        #expect(throws: DatasetError.missingFile(fixtures + "/absent.png")) { try SampleImages.load("absent.png", directory: fixtures) }
    }

    @Test func loaderShufflesAndAugments() {
        let data = Synthetic.shapes(count: 10, size: 6, noise: 0, seed: 1)
        var a = DataLoader(data, batchSize: 4, shuffle: true, seed: 7)
        var b = DataLoader(data, batchSize: 4, shuffle: true, seed: 7)
        let ea = a.epoch(), eb = b.epoch()
        #expect(ea.map(\.labels) == eb.map(\.labels))
        #expect(ea.map(\.images.shape) == [[4, 1, 6, 6], [4, 1, 6, 6], [2, 1, 6, 6]])
        #expect(ea.flatMap(\.labels).sorted() == data.labels.sorted())
        // A certain flip mirrors every row.
        var flip = DataLoader(data, batchSize: 1, augmentation: Augmentation(flipProbability: 1), seed: 1)
        let (img, _) = flip.batch([0])
        for y in 0..<6 { for x in 0..<6 { #expect(img[0, 0, y, x] == data.images[0, 0, y, 5 - x]) } }
        var crop = DataLoader(data, batchSize: 2, augmentation: Augmentation(cropPadding: 2, noiseStd: 0.1), seed: 1)
        #expect(crop.batch([0, 1]).images != data.images.sliced(alongAxis: 0, 0..<2))
    }

    @Test func syntheticGenerators() {
        let (x, y) = Synthetic.blobs(count: 30, classes: 3, dimension: 4, seed: 2)
        #expect(x.shape == [30, 4] && Set(y) == [0, 1, 2])
        let (s, l) = Synthetic.spirals(count: 20, seed: 3)
        #expect(s.shape == [20, 2] && l.filter { $0 == 1 }.count == 10)
        #expect(Synthetic.blobs(count: 5, classes: 2, dimension: 2, seed: 9).features == Synthetic.blobs(count: 5, classes: 2, dimension: 2, seed: 9).features)
    }
}

@Suite("Real datasets (installed by scripts/fetch-data.sh)")
struct RealDataTests {
    @Test func fashionMNIST() throws {
        let train = try FashionMNIST.load(train: true)
        let test = try FashionMNIST.load(train: false)
        #expect(train.images.shape == [60000, 1, 28, 28] && test.images.shape == [10000, 1, 28, 28])
        // Fashion-MNIST is balanced: 6,000 training and 1,000 test images per class.
        for c in 0..<10 {
            #expect(train.labels.filter { $0 == c }.count == 6000)
            #expect(test.labels.filter { $0 == c }.count == 1000)
        }
        let mean = train.images.mean().scalar
        #expect(abs(mean - 0.2860) < 0.001, "mean pixel \(mean)")
    }

    @Test func digitsAndPhotographs() throws {
        let d = try Digits.load()
        #expect(d.count == 1797 && d.images.shape == [1797, 1, 8, 8])
        #expect(Set(d.labels) == Set(0..<10))
        let camera = try SampleImages.load("camera.png")
        #expect(camera.shape == [1, 512, 512])
        let astronaut = try SampleImages.load("astronaut.png")
        #expect(astronaut.shape == [3, 512, 512])
        #expect(SampleImages.available().count >= 5)
    }
}
