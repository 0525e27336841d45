// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation

extension Tern {
    /// `tern bench serve`: the loopback serving benchmark against llama.cpp's server (bench/serve).
    struct BenchServe: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Serving throughput and latency vs llama.cpp's server over loopback (runs bench/serve/run.sh).")

        @Flag(help: "A short sweep (two rates, 12 requests each).")
        var quick = false

        @Flag(help: "Print the reproduction-report JSON instead of the table.")
        var json = false

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
            p.arguments = (quick ? ["--quick"] : []) + ["--json", report]
            p.currentDirectoryURL = URL(fileURLWithPath: root)
            if json { p.standardOutput = FileHandle.standardError }
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw CLIError("bench/serve/run.sh failed (exit \(p.terminationStatus))") }
            if json { Stdout.write(try String(contentsOfFile: report, encoding: .utf8)) }
        }
    }
}
