// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Benchmarks
import Foundation

extension Tern {
    /// `tern bench serve`: the loopback serving benchmark against llama.cpp's server (bench/serve).
    struct BenchServe: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serving throughput and latency vs llama.cpp's server over loopback (runs bench/serve/run.sh).")

        @OptionGroup var output: BenchOutputOptions

        func run() throws {
            let fm = FileManager.default
            let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            let roots = [fm.currentDirectoryPath, exe.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path]
            guard let root = roots.first(where: { fm.isExecutableFile(atPath: $0 + "/bench/serve/run.sh") }) else {
                throw CLIError("bench/serve/run.sh not found: run tern bench serve from the Tern checkout")
            }
            let report = root + "/.build/artifacts/bench-serve.json"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: root + "/bench/serve/run.sh")
            p.arguments = (output.quick ? ["--quick"] : []) + ["--json", report]
            p.currentDirectoryURL = URL(fileURLWithPath: root)
            p.standardOutput = FileHandle.standardError  // the script's own log; the report comes from its file
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw CLIError("bench/serve/run.sh failed (exit \(p.terminationStatus))") }
            try output.emit(try BenchReport.load(path: report))
        }
    }
}
