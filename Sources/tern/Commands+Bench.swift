// SPDX-License-Identifier: Apache-2.0

import ArgumentParser

extension Tern {
    /// `tern bench <system>`: reproduction benchmarks, each printing a table or the shared JSON report.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reproduction benchmarks", subcommands: [Speed.self, Train.self, BenchServe.self, EPIM.self, SLoRA.self, BenchCompiler.self, BestEffortBench.self, SplitEnsembleBench.self, BenchMagic.self])
    }
}
