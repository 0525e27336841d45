// SPDX-License-Identifier: Apache-2.0

import Benchmarks
import Foundation
import TestSupport
import Testing

@Suite("tern bench all")
struct BenchAllTests {
    @Test("renders every committed bench/<system>/result.json into Markdown, JSON and SVG")
    func committedResults() throws {
        let out = try temporaryDirectory()
        let r = try Tern.run(["bench", "all", "--results", Fixtures.repositoryRoot + "/bench", "--out", out, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let combined = try JSONDecoder().decode(CombinedReport.self, from: Data(r.stdout.utf8))
        let systems = combined.reports.map(\.system)
        for expected in ["slora", "best-effort", "compiler", "magic", "split-ensemble", "train"] {
            #expect(systems.contains(expected), "no committed result for \(expected)")
        }
        #expect(combined.missing.contains("vecaf") && combined.missing.contains("stream-diffusion"))
        // Every committed report's claims read back exactly as the file holds them; the raw results
        // stay in the file, which the combined report points to.
        for report in combined.reports {
            let path = Fixtures.repositoryRoot + "/bench/\(report.system)/result.json"
            let committed = try BenchReport.load(path: path)
            #expect(committed.claims == report.claims && committed.settings == report.settings && committed.commit == report.commit)
            #expect(report.results == .string(path))
            #expect(!report.claims.isEmpty && !report.commit.isEmpty)
        }
        let markdown = try String(contentsOfFile: out + "/results.md", encoding: .utf8)
        #expect(markdown.contains("## magic") && markdown.contains("`pgm_gain_mean_score`"))
        #expect(try String(contentsOfFile: out + "/results.svg", encoding: .utf8).hasPrefix("<svg"))
        #expect(FileManager.default.fileExists(atPath: out + "/results.json"))
    }

    @Test("an unknown system and a malformed result are clear errors")
    func errors() throws {
        let unknown = try Tern.run(["bench", "all", "--systems", "nonesuch"])
        #expect(unknown.status != 0 && unknown.stderr.contains("unknown system 'nonesuch'"))
        let dir = try temporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir + "/epim", withIntermediateDirectories: true)
        try "{\"system\": 1}".write(toFile: dir + "/epim/result.json", atomically: true, encoding: .utf8)
        let bad = try Tern.run(["bench", "all", "--results", dir, "--systems", "epim"])
        #expect(bad.status != 0 && bad.stderr.contains("is not a reproduction report"))
    }
}
