// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Kernels
import Support

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `tern` command: ten efficient-AI systems on one Swift engine.
@main
struct Tern: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tern",
        abstract: "Tern: efficient-AI systems on one Swift engine (GGUF/Llama inference, serving, training).",
        version: "0.1.0",
        subcommands: [Serve.self, Generate.self, Chat.self, Pull.self, Inspect.self, Train.self, Bench.self, LoRA.self, PIM.self, Agent.self,
                      Profile.self, BestEffort.self, ArenaCommand.self],
        defaultSubcommand: nil)

    static func main() async {
        let missing = CPUFeatures.missingRequiredFlags
        if !missing.isEmpty {
            FileHandleStderr.write("error: this CPU lacks \(missing.joined(separator: ", ")). \(CPUFeatures.requirement)\n")
            Glibc.exit(2)
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Writes to standard error without buffering (logs and progress never go to stdout).
enum FileHandleStderr {
    static func write(_ s: String) {
        writeAll(2, s)
    }
}

/// Writes to standard output and flushes (streamed tokens).
enum Stdout {
    static func write(_ s: String) {
        writeAll(1, s)
    }
}

/// A command-line error with a clear message and exit code 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
