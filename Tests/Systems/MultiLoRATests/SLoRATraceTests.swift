// SPDX-License-Identifier: Apache-2.0

import MultiLoRA
import Testing

@Suite("S-LoRA's synthetic trace")
struct SLoRATraceTests {
    func trace(alpha: Double = 1, cv: Double = 1, seed: UInt64 = 1) -> [SLoRATrace.Request] {
        SLoRATrace.generate(adapters: 50, alpha: alpha, rate: 20, cv: cv, duration: 100, prompt: 8..<16, output: 4..<8,
                            vocabulary: 1000..<2000, seed: seed)
    }

    @Test("rate x duration requests, ordered arrivals at the given mean rate, ids and lengths in range; one seed, one trace")
    func shape() {
        let t = trace()
        #expect(t.count == 2000)
        #expect(zip(t, t.dropFirst()).allSatisfy { $0.arrival <= $1.arrival })
        let meanGap = t.last!.arrival / Double(t.count - 1)
        #expect(abs(meanGap - 0.05) < 0.005, "mean inter-arrival \(meanGap)")
        #expect(t.allSatisfy { (0..<50).contains($0.adapter) && (8..<16).contains($0.prompt.count) && (4..<8).contains($0.output) })
        #expect(t.allSatisfy { $0.prompt.allSatisfy { (1000..<2000).contains($0) } })
        #expect(t.map(\.arrival) == trace().map(\.arrival) && t.map(\.adapter) == trace().map(\.adapter))
        #expect(t.map(\.adapter) != trace(seed: 2).map(\.adapter))
    }

    @Test("alpha < 1 favours low adapter ids; a larger cv gives burstier gaps")
    func skewAndBurstiness() {
        func lowShare(_ t: [SLoRATrace.Request]) -> Double { Double(t.filter { $0.adapter < 5 }.count) / Double(t.count) }
        #expect(abs(lowShare(trace()) - 0.1) < 0.03)
        #expect(lowShare(trace(alpha: 0.3)) > 0.3)
        func gapCV(_ t: [SLoRATrace.Request]) -> Double {
            let gaps = zip(t, t.dropFirst()).map { $1.arrival - $0.arrival }
            let mean = gaps.reduce(0, +) / Double(gaps.count)
            let variance = gaps.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(gaps.count)
            return variance.squareRoot() / mean
        }
        #expect(abs(gapCV(trace()) - 1) < 0.15)
        #expect(gapCV(trace(cv: 3)) > 2)
    }
}
