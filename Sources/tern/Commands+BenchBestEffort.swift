// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Benchmarks
import BestEffortServing
import BestEffortTraining
import Foundation
import Support

extension Tern.Bench {
    /// `tern bench best-effort`: the learned router against static serving and baselines in the simulator.
    ///
    /// Trains the router (same seed → same policy), then runs every policy on the same held-out
    /// traces: a stable Poisson rate sweep (max rate at ≥ 99 % availability), bursty Markov-modulated
    /// traces (fraction of 10 s windows at ≥ 96 % / ≥ 98 % of peak quality), and shifted traces.
    struct BestEffortBench: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "best-effort", abstract: "Learned best-effort serving vs static serving (simulator over measured tiers).")
        @OptionGroup var options: BestEffortOptions
        @Option(help: "A trained policy file to evaluate instead of training one.") var policy: String?
        @Option(help: "Training episodes when training here.") var episodes = 300
        @Option(help: "Simulated seconds per bursty evaluation trace.") var burstSeconds = 900.0
        @OptionGroup var output: BenchOutputOptions
        private var quick: Bool { output.quick }
        private var json: Bool { output.json }

        func run() throws {
            // A given policy file is evaluated under the settings it was trained for.
            let given = try policy.map { try RouterPolicyFile(contentsOf: $0) }
            let setup = try given.map { try options.setup().using(policy: $0, path: policy!) } ?? options.setup()
            let model = setup.model, settings = setup.settings, best = setup.best
            var dqn = setup.dqn
            dqn.episodes = quick ? 20 : episodes
            let file = given ?? trainRouter(setup, dqn: dqn, progress: !json)
            let (report, details) = try BestEffortBenchmark.evaluate(
                policy: file, table: setup.table, model: model, settings: settings, best: best, meanDwell: setup.dqn.meanDwell,
                quick: quick, burstSeconds: burstSeconds, seed: options.seed, tierFile: options.tierFile, policyPath: policy)
            try output.emit(report, details: details)
        }
    }
}
