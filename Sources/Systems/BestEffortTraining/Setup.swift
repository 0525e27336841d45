// SPDX-License-Identifier: Apache-2.0

public import Benchmarks
public import BestEffortServing
import Foundation
import Support

/// Everything learned best-effort serving derives from a tier table and a few knobs: the serving
/// model, the simulation settings (deadlines, batch, state scales), the DQN settings and the best
/// tier. `tern best-effort train`, `replay`, `tern serve --router` and the benchmark share it.
public struct BestEffortSetup: Sendable {
    /// The knobs (with the defaults every command uses).
    public struct Options: Codable, Sendable, Equatable {
        /// Tier table from `tern profile`.
        public var tiers = "bench/best-effort/tiers.json"
        /// Deadline of every task as a multiple of the best tier's full-batch latency.
        public var deadlineScale = 3.0
        /// `hard` or `soft` deadlines.
        public var mode = "hard"
        /// Largest batch per tier server (keep within the profiled batch sizes).
        public var maxBatch = 4
        /// Let the router drop requests (an extra action).
        public var allowDrop = false
        /// One server per tier (the paper's one model per GPU group) instead of one shared machine.
        public var separateServers = false
        /// Training seed.
        public var seed: UInt64 = 1
        /// DQN discount per arrival.
        public var gamma = 0.9
        /// Creates the defaults.
        public init() {}
    }

    public let table: TierTable
    public let model: ServingModel
    public let settings: SimulationSettings
    public var dqn: DQNSettings
    public let best: Int

    /// Reads the tier table and derives the rest.
    public init(_ options: Options) throws {
        do { table = try TierTable(contentsOf: options.tiers) } catch {
            throw BestEffortSetupError.tierTable(path: options.tiers, reason: "\(error)")
        }
        guard let mode = DeadlineMode(rawValue: options.mode) else { throw BestEffortSetupError.invalid("mode must be hard or soft, not '\(options.mode)'") }
        guard options.maxBatch >= 1, options.deadlineScale > 0 else { throw BestEffortSetupError.invalid("max batch >= 1 and deadline scale > 0") }
        model = ServingModel(table: table)
        best = model.bestTier
        let deadline = options.deadlineScale * model.latency[best](options.maxBatch)
        let capSmall = model.capacity(0, maxBatch: options.maxBatch), capBest = model.capacity(best, maxBatch: options.maxBatch)
        settings = SimulationSettings(deadlines: [Double](repeating: deadline, count: model.taskCount), mode: mode,
                                      penalty: 1, maxBatch: options.maxBatch, queueScale: Double(2 * options.maxBatch),
                                      rateWindow: 2, rateScale: 1.2 * capSmall, allowDrop: options.allowDrop,
                                      sharedServer: !options.separateServers)
        var dqn = DQNSettings()
        dqn.seed = options.seed
        dqn.gamma = options.gamma
        dqn.rateRange = [0.2 * capBest, 1.0 * capSmall]
        dqn.burstLevels = [0.25, 0.5, 2.0]
        // About 500 arrivals per training episode at the middle of the rate range.
        dqn.episodeSeconds = 500 / (dqn.rateRange[0] * dqn.rateRange[1]).squareRoot()
        dqn.meanDwell = max(10, 5 * deadline)
        self.dqn = dqn
    }

    private init(table: TierTable, model: ServingModel, settings: SimulationSettings, dqn: DQNSettings, best: Int) {
        self.table = table; self.model = model; self.settings = settings; self.dqn = dqn; self.best = best
    }

    /// This setup with the settings a policy file was trained under (deadlines, batch, state
    /// scales, drops, shared machine), so evaluating or replaying it predicts what it was trained
    /// for. Refuses a policy trained for other tiers or tasks; says so through `note` when its
    /// settings differ from these.
    public func using(policy file: RouterPolicyFile, path: String, note: (String) -> Void = { _ in }) throws -> BestEffortSetup {
        let tiers = table.tiers.map(\.spec.name)
        guard file.tiers == tiers, file.tasks == table.tasks else {
            throw BestEffortSetupError.policyMismatch("\(path) was trained for tiers \(file.tiers) and tasks \(file.tasks); the tier table has \(tiers) and \(table.tasks)")
        }
        guard file.network.outputs == model.tierCount + (file.settings.allowDrop ? 1 : 0),
              file.network.inputs == model.taskCount + model.tierCount + 1 else {
            throw BestEffortSetupError.policyMismatch("\(path): its Q-network's shape does not match its tiers and settings")
        }
        if file.settings != settings {
            note("using \(path)'s training settings (deadline \(String(format: "%.3f", file.settings.deadlines[0])) s, "
                 + "\(file.settings.mode.rawValue), max batch \(file.settings.maxBatch), drops \(file.settings.allowDrop ? "on" : "off"), "
                 + "\(file.settings.sharedServer ? "shared machine" : "separate servers")) instead of the given ones")
        }
        var d = dqn
        d.meanDwell = max(10, 5 * file.settings.deadlines[0])
        return BestEffortSetup(table: table, model: model, settings: file.settings, dqn: d, best: best)
    }

    /// Trains the router (`episodes` from `dqn`) with a progress line and returns the policy file.
    public func trainRouter(dqn: DQNSettings, showProgress: Bool) -> RouterPolicyFile {
        let trainer = DQNTrainer(model: model, settings: settings, dqn: dqn)
        let line = ProgressReporter(label: "train", total: dqn.episodes, enabled: showProgress)
        let weights = trainer.train { r in
            line.step(String(format: "ε %.2f reward %.3f availability %.3f loss %.4f", r.epsilon, r.meanReward, r.availability, r.loss))
        }
        line.finish()
        let training: [String: String] = [
            "episodes": "\(dqn.episodes)", "hidden": "\(dqn.hidden)", "gamma": "\(dqn.gamma)", "learning_rate": "\(dqn.learningRate)",
            "batch": "\(dqn.batchSize)", "replay": "\(dqn.replayCapacity)", "target_sync": "\(dqn.targetSync)",
            "epsilon": "\(dqn.epsilonStart)->\(dqn.epsilonEnd) over \(dqn.epsilonDecayFraction) of episodes",
            "episode_seconds": "\(dqn.episodeSeconds)", "rate_range": "\(dqn.rateRange)", "burst_levels": "\(dqn.burstLevels)",
            "seed": "\(dqn.seed)", "gradient_steps": "\(trainer.gradientSteps)",
        ]
        return RouterPolicyFile(tiers: table.tiers.map(\.spec.name), tasks: table.tasks, settings: settings, network: weights, training: training)
    }
}

/// Why a best-effort setup could not be made.
public enum BestEffortSetupError: Error, CustomStringConvertible {
    case tierTable(path: String, reason: String)
    case invalid(String)
    case policyMismatch(String)

    public var description: String {
        switch self {
        case .tierTable(let p, let why): "\(p): \(why) (run `tern profile` from the repository root, or give another tier table)"
        case .invalid(let why): why
        case .policyMismatch(let why): why
        }
    }
}

/// The learned router against static serving and the baselines in the simulator (see
/// ``BestEffortBenchmark/evaluate(policy:table:model:settings:best:meanDwell:evaluation:seed:tierFile:policyPath:)``).
/// Training the router is the run's resumable piece.
public enum LearnedRoutingBenchmark: SystemBenchmark {
    /// Every knob of a run.
    public struct Settings: Codable, Sendable, Equatable {
        public var setup = BestEffortSetup.Options()
        /// A trained policy file to evaluate instead of training one ("" = train here).
        public var policy = ""
        /// Training episodes when training here.
        public var episodes = 300
        public var sweepPoints = 24
        public var sweepSeconds = 300.0
        public var burstSeconds = 900.0
        public var burstSeeds = 3
        /// Creates the defaults of a full run.
        public init() {}

        private enum CodingKeys: String, CodingKey {
            case policy, episodes, sweepPoints, sweepSeconds, burstSeconds, burstSeeds
            case tiers, deadlineScale, mode, maxBatch, allowDrop, separateServers, seed, gamma
        }

        // The setup's knobs are flattened into the settings (one level of keys to override).
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            policy = try c.decode(String.self, forKey: .policy)
            episodes = try c.decode(Int.self, forKey: .episodes)
            sweepPoints = try c.decode(Int.self, forKey: .sweepPoints)
            sweepSeconds = try c.decode(Double.self, forKey: .sweepSeconds)
            burstSeconds = try c.decode(Double.self, forKey: .burstSeconds)
            burstSeeds = try c.decode(Int.self, forKey: .burstSeeds)
            setup.tiers = try c.decode(String.self, forKey: .tiers)
            setup.deadlineScale = try c.decode(Double.self, forKey: .deadlineScale)
            setup.mode = try c.decode(String.self, forKey: .mode)
            setup.maxBatch = try c.decode(Int.self, forKey: .maxBatch)
            setup.allowDrop = try c.decode(Bool.self, forKey: .allowDrop)
            setup.separateServers = try c.decode(Bool.self, forKey: .separateServers)
            setup.seed = try c.decode(UInt64.self, forKey: .seed)
            setup.gamma = try c.decode(Double.self, forKey: .gamma)
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(policy, forKey: .policy); try c.encode(episodes, forKey: .episodes)
            try c.encode(sweepPoints, forKey: .sweepPoints); try c.encode(sweepSeconds, forKey: .sweepSeconds)
            try c.encode(burstSeconds, forKey: .burstSeconds); try c.encode(burstSeeds, forKey: .burstSeeds)
            try c.encode(setup.tiers, forKey: .tiers); try c.encode(setup.deadlineScale, forKey: .deadlineScale)
            try c.encode(setup.mode, forKey: .mode); try c.encode(setup.maxBatch, forKey: .maxBatch)
            try c.encode(setup.allowDrop, forKey: .allowDrop); try c.encode(setup.separateServers, forKey: .separateServers)
            try c.encode(setup.seed, forKey: .seed); try c.encode(setup.gamma, forKey: .gamma)
        }
    }

    public static let name = "best-effort"
    public static let title = "Learned best-effort serving"
    public static let abstract = "learned Double-DQN router vs static serving and baselines (simulator over measured tiers)"
    public static let settingsHelp = BenchSettings.help("""
        tiers             tier table from `tern profile`
        deadline_scale    deadline of every task as a multiple of the best tier's full-batch latency
        mode              hard or soft deadlines
        max_batch         largest batch per tier server
        allow_drop        let the router drop requests (an extra action)
        separate_servers  one server per tier instead of one shared machine
        seed              training seed
        gamma             DQN discount per arrival
        policy            a trained policy file to evaluate instead of training one (empty = train here)
        episodes          training episodes when training here
        sweep_points      Poisson rate-sweep points
        sweep_seconds     simulated seconds per sweep point
        burst_seconds     simulated seconds per bursty evaluation trace
        burst_seeds       bursty evaluation traces (seeds 31, 32, ...)
        """)

    public static func settings(quick: Bool) -> Settings {
        var s = Settings()
        if quick { s.episodes = 20; s.sweepPoints = 8; s.sweepSeconds = 60; s.burstSeconds = 120; s.burstSeeds = 1 }
        return s
    }

    public static func run(_ s: Settings, context: BenchContext) async throws -> BenchOutcome {
        // A given policy file is evaluated under the settings it was trained for.
        let given = s.policy.isEmpty ? nil : try RouterPolicyFile(contentsOf: s.policy)
        let base = try BestEffortSetup(s.setup)
        let setup = try given.map { try base.using(policy: $0, path: s.policy, note: { ProgressReporter.writeStandardError("note: \($0)\n") }) } ?? base
        var dqn = setup.dqn
        dqn.episodes = s.episodes
        let file = try given ?? context.checkpoint.piece("router") { setup.trainRouter(dqn: dqn, showProgress: context.showProgress) }
        let evaluation = BestEffortBenchmark.EvaluationSize(sweepPoints: s.sweepPoints, sweepSeconds: s.sweepSeconds, burstSeconds: s.burstSeconds,
                                                            burstSeeds: (0..<max(1, s.burstSeeds)).map { UInt64(31 + $0) })
        let (report, details) = try BestEffortBenchmark.evaluate(
            policy: file, table: setup.table, model: setup.model, settings: setup.settings, best: setup.best, meanDwell: setup.dqn.meanDwell,
            evaluation: evaluation, seed: s.setup.seed, tierFile: s.setup.tiers, policyPath: given == nil ? nil : s.policy)
        return BenchOutcome(report: report, details: details)
    }
}
