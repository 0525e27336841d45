// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Benchmarks
import Foundation
import Support

/// The options every `tern bench <system>` shares: `--quick`, `--json`, `--out DIR`.
struct BenchOutputOptions: ParsableArguments {
    @Flag(help: "A small version in about a minute (used by the tests).")
    var quick = false

    @Flag(help: "Print the reproduction report as JSON instead of the table.")
    var json = false

    @Option(help: "Also write the report to DIR/<system>/result.json (a full run: --out bench).")
    var out: String?

    /// Where a full run keeps its finished pieces: `DIR/<system>/partial` under `--out DIR`, so an
    /// interrupted run resumes with the same command; quick runs and runs without `--out` keep none.
    func checkpoint(system: String, settings: [String: JSONValue]) -> BenchCheckpoint {
        let directory = quick ? nil : out.map { ($0 as NSString).appendingPathComponent(system + "/partial") }
        let checkpoint = BenchCheckpoint(directory: directory, settings: settings)
        if checkpoint.resumedCount > 0, let directory {
            FileHandleStderr.write("tern: resuming \(system): \(checkpoint.resumedCount) finished piece(s) from \(directory)\n")
        }
        return checkpoint
    }

    /// Prints the report (table or JSON) and writes it under `--out`; `details` is printed above the
    /// claims table (system-specific rows), never in JSON mode.
    func emit(_ report: BenchReport, details: String = "") throws {
        if let out {
            let path = (out as NSString).appendingPathComponent(report.system + "/result.json")
            try report.write(to: path)
            FileHandleStderr.write("tern: wrote \(path)\n")
        }
        if json {
            Stdout.write(try report.jsonString())
        } else {
            Stdout.write((details.isEmpty ? "" : details + "\n") + ReportRenderer.table(report))
        }
    }
}
