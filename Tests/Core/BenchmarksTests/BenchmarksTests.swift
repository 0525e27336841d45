// SPDX-License-Identifier: Apache-2.0

import Benchmarks
import Foundation
import Support
import Testing

@Suite("Reproduction reports")
struct BenchReportTests {
    @Test("a report round-trips through JSON with every claim key present, nulls included")
    func roundTrip() throws {
        var report = BenchReport(system: "demo", settings: ["epochs": 3, "quick": true, "model": "smollm2"],
                                 machine: MachineInfo(cpu: "cpu", cores: 2, memoryGiB: 24, os: "linux"), commit: "abc")
        report.claims = [
            Claim(id: "speedup", setting: "5 adapters", description: "ours / baseline", unit: "x", paper: .value(3.9), ours: 2.1,
                  better: .higher, baseline: "packed"),
            Claim(id: "range", description: "a range", unit: "x", paper: .range(low: 1.37, high: 1.5), ours: 0.9,
                  better: .higher, baseline: "vanilla", note: "135M model"),
            Claim(id: "none", description: "no paper value", unit: "%", paper: nil, ours: nil, better: .lower, baseline: "b"),
        ]
        report.results = ["rows": [1, 2.5, "x", nil]]
        let data = try report.jsonData()
        #expect(try JSONDecoder().decode(BenchReport.self, from: data) == report)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let claims = try #require(object["claims"] as? [[String: Any]])
        for c in claims {
            #expect(Set(c.keys) == ["id", "setting", "description", "unit", "paper", "ours", "better", "reproduced", "baseline", "note"])
        }
        #expect(claims[2]["paper"] is NSNull && claims[2]["reproduced"] is NSNull)
        #expect((claims[1]["paper"] as? [String: Double]) == ["low": 1.37, "high": 1.5])
        #expect(report.claims.map(\.reproduced) == [true, false, nil])
    }

    @Test("verdicts: direction against the no-effect threshold")
    func judge() {
        #expect(Claim.judge(1.2, better: .higher, threshold: 1) == true)
        #expect(Claim.judge(0.8, better: .lower, threshold: 1) == true)
        #expect(Claim.judge(1.0, better: .higher, threshold: 1) == false)
        #expect(Claim.judge(nil, better: .higher, threshold: 1) == nil)
        #expect(Claim(id: "a", description: "", unit: "x", paper: nil, ours: .nan, better: .higher, baseline: "").ours == nil)
    }

    @Test("table, Markdown and SVG render every claim")
    func render() throws {
        var r = BenchReport(system: "demo", machine: MachineInfo(cpu: "cpu", cores: 2, memoryGiB: 24, os: "linux"), commit: "abc")
        r.claims = [Claim(id: "speedup", description: "d", unit: "x", paper: .value(3.9), ours: 2.1, better: .higher, baseline: "b|c",
                          note: "why")]
        let table = ReportRenderer.table(r)
        #expect(table.contains("speedup") && table.contains("3.9") && table.contains("2.1") && table.contains("yes") && table.contains("why"))
        let md = ReportRenderer.markdown([r], missing: ["vecaf"])
        #expect(md.contains("| `speedup` |") && md.contains("b\\|c") && md.contains("No committed result yet: vecaf"))
        let svg = ReportRenderer.svg([r])
        #expect(svg.hasPrefix("<svg") && svg.contains("demo · speedup"))
        #expect(formatNumber(3.14159) == "3.142" && formatNumber(2) == "2" && formatNumber(123.456) == "123.5")
    }
}

@Suite("Alternating runs and checkpoints")
struct HarnessTests {
    @Test("ABBA order, medians and ratio")
    func alternating() {
        var order: [String] = []
        var a = 0.0, b = 10.0
        let r = AlternatingRuns.measure(repetitions: 4, ours: { order.append("A"); a += 1; return a }, theirs: { order.append("B"); b += 1; return b })
        #expect(order == ["A", "B", "B", "A", "B", "A", "A", "B"])
        #expect(r.ours == [1, 2, 3, 4] && r.oursMedian == 2.5 && r.theirsMedian == 12.5)
        #expect(abs(r.ratio - 0.2) < 1e-12)
    }

    @Test("a checkpoint resumes saved pieces and starts afresh when settings change")
    func checkpoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tern-checkpoint-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var computed = 0
        let first = BenchCheckpoint(directory: dir, settings: ["n": 1])
        #expect(try first.piece("a") { computed += 1; return [1.5, 2] } == [1.5, 2])
        let again = BenchCheckpoint(directory: dir, settings: ["n": 1])
        #expect(again.resumedCount == 1)
        #expect(try again.piece("a") { computed += 1; return [0.0] } == [1.5, 2])
        #expect(computed == 1)
        let changed = BenchCheckpoint(directory: dir, settings: ["n": 2])
        #expect(changed.resumedCount == 0)
        changed.finish()
        #expect(!FileManager.default.fileExists(atPath: dir))
    }
}

@Suite("Benchmark settings")
struct BenchSettingsTests {
    struct Toy: Codable, Equatable {
        var trainLimit = 100
        var lr: Float = 0.05
        var allVariants = true
        var name = "a"
        var seed: UInt64 = 7
        var counts = [5, 100]
        var baseURL = ""
    }

    @Test("a help table written as text: key, white space, help; blank lines skipped")
    func helpTable() {
        let help = BenchSettings.help("""
            train_limit   training images (0 = all)
              lr  peak learning rate

            """)
        #expect(help == ["train_limit": "training images (0 = all)", "lr": "peak learning rate"])
    }

    @Test("settings encode with snake-case keys and overrides keep each value's type")
    func overrides() throws {
        let encoded = try BenchSettings.encode(Toy())
        #expect(encoded["train_limit"] == 100 && encoded["all_variants"] == true && encoded["counts"] == [5, 100])
        #expect(encoded["lr"]?.numberValue.map { abs($0 - 0.05) < 1e-6 } == true)
        let s = try BenchSettings.apply(["train-limit=3", "lr=0.5", "all_variants=false", "name=b c", "seed=9", "counts=1,2,3"], to: Toy())
        #expect(s == Toy(trainLimit: 3, lr: 0.5, allVariants: false, name: "b c", seed: 9, counts: [1, 2, 3]))
        #expect(try BenchSettings.apply(["base_url=http://h/v1"], to: Toy()).baseURL == "http://h/v1")
        #expect(encoded["base_url"] == "")
        #expect(["trainLimit", "baseURL", "ctxSize", "mcPasses", "urlPath", "x"].map(BenchSettings.snakeCase)
                == ["train_limit", "base_url", "ctx_size", "mc_passes", "url_path", "x"])
        #expect(try BenchSettings.apply([], to: Toy()) == Toy())
    }

    @Test("bad overrides name the key and what was expected")
    func badOverrides() {
        #expect(throws: BenchSettingsError.unknownKey("epochs", known: ["all_variants", "base_url", "counts", "lr", "name", "seed", "train_limit"])) {
            try BenchSettings.apply(["epochs=3"], to: Toy())
        }
        #expect(throws: BenchSettingsError.malformed("trainlimit")) { try BenchSettings.apply(["trainlimit"], to: Toy()) }
        #expect(throws: BenchSettingsError.badValue(key: "train_limit", value: "many", expected: "a number")) {
            try BenchSettings.apply(["train_limit=many"], to: Toy())
        }
        #expect(throws: BenchSettingsError.badValue(key: "all_variants", value: "maybe", expected: "true or false")) {
            try BenchSettings.apply(["all_variants=maybe"], to: Toy())
        }
        // 2.5 is a number but not an Int: the decode error is reported, not swallowed.
        #expect(throws: (any Error).self) { try BenchSettings.apply(["train_limit=2.5"], to: Toy()) }
    }
}
