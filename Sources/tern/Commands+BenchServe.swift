// SPDX-License-Identifier: Apache-2.0

import Benchmarks
import Foundation

/// The loopback serving benchmark against llama.cpp's C++ `llama-server` (llama-cpp-python's server as
/// a second row): `bench/serve/run.sh` runs the servers and the load generator and writes the report
/// this returns. The script serves with this very `tern` binary.
enum ServeBenchmark: SystemBenchmark {
    struct Settings: Codable, Sendable, Equatable {
        /// The script's smaller configuration (what the quick run uses).
        var small = false
    }

    static let name = "serve"
    static let title = "Serving vs llama.cpp's llama-server"
    static let abstract = "serving throughput and latency vs llama.cpp's C++ llama-server (llama-cpp-python's server as a second row): Poisson and closed-loop sweeps over loopback (runs bench/serve/run.sh)"
    static let settingsHelp = ["small": "the script's --quick configuration"]

    static func settings(quick: Bool) -> Settings { Settings(small: quick) }

    static func run(_ s: Settings, context: BenchContext) async throws -> BenchOutcome {
        let fm = FileManager.default
        let exe = URL(fileURLWithPath: context.executable)
        let roots = [fm.currentDirectoryPath, exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path]
        guard let root = roots.first(where: { fm.isExecutableFile(atPath: $0 + "/bench/serve/run.sh") }) else {
            throw CLIError("bench/serve/run.sh not found: run tern bench serve from the Tern checkout")
        }
        let report = root + "/.build/artifacts/bench-serve.json"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: root + "/bench/serve/run.sh")
        p.arguments = (s.small ? ["--quick"] : []) + ["--json", report]
        p.currentDirectoryURL = URL(fileURLWithPath: root)
        var environment = ProcessInfo.processInfo.environment
        if environment["TERN_BIN"] == nil { environment["TERN_BIN"] = context.executable }
        p.environment = environment
        p.standardOutput = FileHandle.standardError  // the script's own log; the report comes from its file
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CLIError("bench/serve/run.sh failed (exit \(p.terminationStatus))") }
        return BenchOutcome(report: try BenchReport.load(path: report))
    }
}
