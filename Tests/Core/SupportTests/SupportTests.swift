// SPDX-License-Identifier: Apache-2.0

import Foundation
import Support
import Testing

@Suite("SeededRandom")
struct SeededRandomTests {
    @Test("matches SplitMix64's published first outputs for seed 0")
    func referenceOutputs() {
        // Vigna's splitmix64.c with x = 0.
        var r = SeededRandom(seed: 0)
        #expect(r.next() == 0xE220_A839_7B1D_CDAF)
        #expect(r.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect(r.next() == 0x06C4_5D18_8009_454F)
    }

    @Test("uniforms stay in range and draws are reproducible")
    func ranges() {
        var a = SeededRandom(seed: 7), b = SeededRandom(seed: 7)
        for _ in 0..<10_000 {
            let d = a.nextDouble(), o = a.nextOpenDouble(), f = a.nextFloat(), i = a.nextInt(below: 13)
            #expect(d >= 0 && d < 1 && o > 0 && o < 1 && f >= 0 && f < 1 && (0..<13).contains(i))
        }
        var x = [Int](0..<50), y = [Int](0..<50)
        a.shuffle(&x)
        for _ in 0..<10_000 { _ = (b.nextDouble(), b.nextOpenDouble(), b.nextFloat(), b.nextInt(below: 13)) }
        b.shuffle(&y)
        #expect(x == y && x != Array(0..<50) && x.sorted() == Array(0..<50))
    }

    @Test("normal, exponential and gamma draws have the right first two moments")
    func moments() throws {
        var r = SeededRandom(seed: 3)
        let n = 40_000
        let normals = (0..<n).map { _ in Double(r.nextNormal()) }
        let exponentials = (0..<n).map { _ in r.nextExponential(rate: 2) }
        let gammas = (0..<n).map { _ in r.nextGamma(shape: 0.5, scale: 4) }
        #expect(abs(try #require(Statistics.mean(normals))) < 0.02)
        #expect(abs(Statistics.standardDeviation(normals) - 1) < 0.02)
        #expect(abs(try #require(Statistics.mean(exponentials)) - 0.5) < 0.01)
        #expect(abs(try #require(Statistics.mean(gammas)) - 2) < 0.06)  // shape · scale
        #expect(abs(Statistics.standardDeviation(gammas) - 8.0.squareRoot()) < 0.15)  // √(k θ²)
    }
}

@Suite("Statistics")
struct StatisticsTests {
    @Test func medianPercentileMean() throws {
        #expect(Statistics.median([3, 1, 2]) == 2)
        #expect(Statistics.median([4, 1, 3, 2]) == 2.5)
        #expect(Statistics.median([]) == nil)
        #expect(Statistics.percentile([1, 2, 3, 4], 0.9) == 3.7)  // numpy.percentile(.., 90)
        #expect(Statistics.percentile([5], 0.99) == 5)
        #expect(Statistics.percentile([1, 2, 3, 4], 0) == 1 && Statistics.percentile([1, 2, 3, 4], 1) == 4)
        let s = try #require(Statistics.meanAndSpread([70.1, 72.3]))
        #expect(abs(s.mean - 71.2) < 1e-12 && abs(s.spread - 1.5556349186) < 1e-9 && s.count == 2)
        #expect(Statistics.meanAndSpread([4])?.spread == 0)
    }
}

@Suite("Log-softmax")
struct LogSoftmaxTests {
    @Test("is stable for large logits and normalises")
    func stable() {
        let x: [Float] = [1000, 1001, 999]
        let y = logSoftmax(x)
        let total = y.reduce(0) { $0 + Double(expf($1)) }
        #expect(abs(total - 1) < 1e-4)
        #expect(abs(y[1] - (-0.40760596)) < 1e-4)  // numpy: x - logsumexp(x); Float spacing at 1000 is 6e-5
        #expect(logSumExp([Float]()) == -.infinity)
    }
}

@Suite("Stop strings")
struct StopStringMatcherTests {
    @Test("withholds only a possible prefix and cuts at the earliest stop")
    func streaming() {
        var m = StopStringMatcher(["\nUser:", "END"])
        #expect(m.append("Hello\nUs") == ("Hello", false))
        #expect(m.held == "\nUs")
        #expect(m.append("ually") == ("\nUsually", false))
        #expect(m.append(" fine. EN") == (" fine. ", false))
        #expect(m.append("D and more") == ("", true))
        #expect(m.held.isEmpty)
    }

    @Test("earliest of several stops wins; flush returns held text; no stops passes through")
    func edges() {
        var m = StopStringMatcher(["bc", "ab"])
        #expect(m.append("xabc") == ("x", true))
        var n = StopStringMatcher(["abc"])
        #expect(n.append("xxab") == ("xx", false))
        #expect(n.flush() == "ab" && n.held.isEmpty)
        var none = StopStringMatcher(["", ""])
        #expect(none.append("abc") == ("abc", false))
    }
}

@Suite("Safetensors")
struct SafeTensorsTests {
    @Test("F32, F16 and BF16 round-trip with metadata; header padded to 8 bytes")
    func roundTrip() throws {
        let values: [Float] = [1, -2.5, 0.15625, 65504, 3.0e-5, 0]
        let data = try SafeTensors.encode([
            (name: "a", tensor: SafeTensor(shape: [2, 3], floats: values, dtype: .f32)),
            (name: "b", tensor: SafeTensor(shape: [6], floats: values, dtype: .f16)),
            (name: "c", tensor: SafeTensor(shape: [3, 2], floats: values, dtype: .bf16)),
        ], metadata: ["commit": "abc"])
        let headerLength = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        #expect(headerLength % 8 == 0)
        let file = try SafeTensors.read(data)
        #expect(file.metadata == ["commit": "abc"])
        #expect(file.tensors["a"] == SafeTensor(shape: [2, 3], floats: values, dtype: .f32))
        let b = try #require(file.tensors["b"]), c = try #require(file.tensors["c"])
        #expect(b.dtype == .f16 && c.dtype == .bf16 && c.shape == [3, 2])
        for i in values.indices {
            #expect(b.floats[i] == Float(Float16(values[i])))
            #expect(abs(c.floats[i] - values[i]) <= abs(values[i]) / 128)
        }
        #expect(c.floats[1] == -2.5 && c.floats[2] == 0.15625)  // exact in bfloat16
    }

    @Test("hostile files are errors naming the problem, never traps")
    func hostile() throws {
        func file(_ header: String, payload: Int = 0) -> Data {
            var d = Data()
            withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
            d.append(contentsOf: Array(header.utf8))
            d.append(Data(count: payload))
            return d
        }
        let cases: [(Data, String)] = [
            (Data([1, 2, 3]), "too short"),
            (file("{"), "not valid JSON"),
            (file("[1]"), "not a JSON object"),
            (file(#"{"t": {"dtype": "I8", "shape": [1], "data_offsets": [0, 1]}}"#, payload: 1), "dtype I8"),
            (file(#"{"t": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}"#, payload: 4), "negative"),
            (file(#"{"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#, payload: 4), "outside the file"),
            (file(#"{"t": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}}"#, payload: 4), "too large"),
            (file(#"{"__metadata__": {"n": 1}}"#), "__metadata__"),
            (file(#"{"t": 3}"#), "header entry"),
        ]
        for (data, needle) in cases {
            #expect(performing: { _ = try SafeTensors.read(data) }, throws: { ($0 as? SafeTensorsError)?.description.contains(needle) == true })
        }
    }
}
