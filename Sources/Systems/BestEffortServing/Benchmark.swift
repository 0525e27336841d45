// SPDX-License-Identifier: Apache-2.0

public import Benchmarks
import Foundation
import Support

/// The learned router against static serving and the baselines in the simulator: a stable Poisson
/// rate sweep (max rate at >= 99 % availability), bursty Markov-modulated traces (fraction of 10 s
/// windows at >= 96 % / >= 98 % of peak quality) and shifted traces, every policy on the same
/// held-out traces.
public enum BestEffortBenchmark {
    /// How much simulated time the evaluation spends.
    public struct EvaluationSize: Sendable {
        /// Points of the Poisson rate sweep and simulated seconds per point.
        public var sweepPoints: Int, sweepSeconds: Double
        /// Simulated seconds per bursty trace and the traces' seeds.
        public var burstSeconds: Double, burstSeeds: [UInt64]
        /// Creates a size.
        public init(sweepPoints: Int, sweepSeconds: Double, burstSeconds: Double, burstSeeds: [UInt64]) {
            self.sweepPoints = sweepPoints; self.sweepSeconds = sweepSeconds; self.burstSeconds = burstSeconds; self.burstSeeds = burstSeeds
        }
    }

    /// Evaluates `file`'s router on `table`'s tiers under `settings` (best tier `best`); returns the
    /// reproduction report and a table of every policy's numbers.
    public static func evaluate(policy file: RouterPolicyFile, table: TierTable, model: ServingModel, settings: SimulationSettings,
                                best: Int, meanDwell: Double, evaluation size: EvaluationSize, seed: UInt64,
                                tierFile: String, policyPath: String?) throws -> (report: BenchReport, table: String) {
        let B = settings.maxBatch
        let capSmall = model.capacity(0, maxBatch: B), capBest = model.capacity(best, maxBatch: B)
        // The evaluation's fixed choices, all reported in `settings`.
        let window = 10.0                                   // quality window (s)
        let oracleSlacks = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]   // oracle: best mean reward over these, per trace
        let greedySlack = 0.9                               // greedy-deadline: predicted finish within 0.9 x deadline
        let randomSeed: UInt64 = 4242
        let sweepLowOfBest = 0.25, sweepHighOfSmall = 1.5   // sweep grid: 0.25x static-best .. 1.5x smallest tier capacity
        let sweepSeedBase: UInt64 = 900_000                 // Poisson sweep point i uses seed 900000 + i
        let availabilityTarget = 0.99
        let burstFactors = [0.25, 0.5, 2.0]                 // MMPP levels, multiples of static-best capacity
        let arrivalShiftFactor = 2.0                        // arrival shift: every level doubled
        let arrivalShiftSeedOffset: UInt64 = 100, mixShiftSeedOffset: UInt64 = 200
        let skewHigh = 1.0, skewLow = 0.1                   // task-mix shift: weight of the favoured task vs the others
        let evaluation = BestEffortEvaluation(model: model, settings: settings, window: window)
        // Each entry measures one policy on one trace. The oracle is the exact-finish-time greedy
        // with its deadline slack chosen per trace in hindsight (best mean reward of 6 slacks).
        func run(_ make: @escaping () -> any RoutingPolicy) -> (Trace) -> ServingMetrics { { evaluation.metrics(make(), on: $0) } }
        let oracle: (Trace) -> ServingMetrics = { trace in
            oracleSlacks.map { evaluation.metrics(OraclePolicy(slack: $0), on: trace) }.max { $0.meanReward < $1.meanReward }!
        }
        let policies: [(String, (Trace) -> ServingMetrics)] = [
            ("learned", run { LearnedPolicy(network: file.network) }),
            ("static-best", run { StaticPolicy(tier: best, name: "static-best") }),
            ("static-small", run { StaticPolicy(tier: 0, name: "static-small") }),
            ("random", run { RandomPolicy(seed: randomSeed) }),
            ("greedy-deadline", run { GreedyDeadlinePolicy(slack: greedySlack) }),
            ("oracle", oracle),
        ]
        // Stable: Poisson sweep, geometric grid from 0.25x static-best capacity to 1.5x the smallest tier's.
        let points = max(2, size.sweepPoints)
        let lo = sweepLowOfBest * capBest, hi = sweepHighOfSmall * capSmall
        let rates = (0..<points).map { lo * pow(hi / lo, Double($0) / Double(points - 1)) }
        let sweepSeconds = size.sweepSeconds
        var sweep: [String: [Double]] = ["rates": rates]
        var maxRate: [String: Double] = [:]
        for (name, measure) in policies {
            let a = rates.enumerated().map { i, rate in
                measure(Trace.poisson(rate: rate, duration: sweepSeconds, mix: [(0, evaluation.uniformMix)], seed: sweepSeedBase &+ UInt64(i))).availability
            }
            sweep[name] = a
            maxRate[name] = BestEffortEvaluation.maxRate(rates: rates, availability: a, target: availabilityTarget)
        }
        // Bursty: Markov-modulated traces (held-out seeds) whose mean rate (0.92x) is within
        // static-best's capacity, with bursts at 2x it: a deployment provisioned for the mean.
        let burstLevels = burstFactors.map { $0 * capBest }
        let dwell = meanDwell
        let seconds = size.burstSeconds
        let seeds = size.burstSeeds
        func windows(_ traces: [Trace]) -> [String: [String: Double]] {
            var out: [String: [String: Double]] = [:]
            for (name, measure) in policies {
                var w: [Double] = [], avail = 0.0, quality = 0.0
                for t in traces {
                    let m = measure(t)
                    w += m.windows
                    avail += m.availability / Double(traces.count)
                    quality += m.relativeQuality / Double(traces.count)
                }
                let n = Double(max(w.count, 1))
                out[name] = ["availability": avail, "relative_quality": quality, "windows": Double(w.count),
                             "windows_96": Double(w.filter { $0 >= 0.96 }.count) / n,
                             "windows_98": Double(w.filter { $0 >= 0.98 }.count) / n]
            }
            return out
        }
        let uniform = evaluation.uniformMix
        let bursty = windows(seeds.map { Trace.markovModulated(levels: burstLevels, meanDwell: dwell, duration: seconds, mix: [(0, uniform)], seed: $0) })
        // Shifts: arrival levels doubled; task mix moving to the first task, then the last, mid-trace.
        let arrivalShift = windows(seeds.map { Trace.markovModulated(levels: burstLevels.map { arrivalShiftFactor * $0 }, meanDwell: dwell,
                                                                     duration: seconds, mix: [(0, uniform)], seed: $0 &+ arrivalShiftSeedOffset) })
        var skewA = [Double](repeating: skewLow, count: model.taskCount), skewB = skewA
        skewA[0] = skewHigh; skewB[model.taskCount - 1] = skewHigh
        let mixShift = windows(seeds.map { Trace.markovModulated(levels: burstLevels, meanDwell: dwell, duration: seconds,
                                                                 mix: [(0, skewA), (seconds / 2, skewB)], seed: $0 &+ mixShiftSeedOffset) })

        // Claims. A zero denominator is floored at one window (stated in the description).
        let nWindows = bursty["static-best"]!["windows"]!
        func ratio(_ key: String) -> (Double, Bool) {
            let s = bursty["static-best"]![key]!, l = bursty["learned"]![key]!
            return s > 0 ? (l / s, false) : (l / (1 / nWindows), true)
        }
        let (r96, f96) = ratio("windows_96"), (r98, f98) = ratio("windows_98")
        let rateRatio = maxRate["static-best"]! > 0 ? maxRate["learned"]! / maxRate["static-best"]! : 0
        let span = capSmall / capBest
        let claims = [
            Claim(id: "max_rate_99pct_availability_vs_static",
                  description: "highest Poisson rate with >= 99% of requests within deadline, learned / static-best", unit: "x",
                  paper: .value(10), ours: rateRatio, better: .higher,
                  baseline: "static-best (every request to the best tier) in the same simulator",
                  note: "bounded by the tiers' capacity span \(String(format: "%.2f", span))x; the paper's OPT-125M..6.7B span is ~50x"),
            Claim(id: "windows_96pct_peak_vs_static",
                  description: "fraction of 10 s windows serving >= 96% of peak quality on bursty MMPP traces, learned / static-best",
                  unit: "x", paper: .value(4.1), ours: r96, better: .higher, baseline: "static-best in the same simulator",
                  note: f96 ? "static had 0 windows: floored at 1 window" : ""),
            Claim(id: "windows_98pct_peak_vs_static",
                  description: "fraction of 10 s windows serving >= 98% of peak quality on bursty MMPP traces, learned / static-best",
                  unit: "x", paper: .value(2.3), ours: r98, better: .higher, baseline: "static-best in the same simulator",
                  note: f98 ? "static had 0 windows: floored at 1 window" : ""),
        ]
        let tiers: [JSONValue] = table.tiers.map { t in
            ["name": JSONValue(t.spec.name), "quality": .array(t.quality.map { JSONValue($0) }),
             "batch_sizes": .array(t.batchSizes.map { JSONValue($0) }), "seconds": .array(t.seconds.map { JSONValue($0) }),
             "capacity_rps": JSONValue(Double(B) / t.latency(batch: B))]
        }
        let results: JSONValue = [
            "tiers": .array(tiers), "static_best_tier": JSONValue(table.tiers[best].spec.name), "capacity_span": JSONValue(span),
            "max_rate_99": try JSONValue(encoding: maxRate), "sweep": try JSONValue(encoding: sweep),
            "bursty": try JSONValue(encoding: bursty), "arrival_shift": try JSONValue(encoding: arrivalShift),
            "task_mix_shift": try JSONValue(encoding: mixShift), "training": try JSONValue(encoding: file.training),
        ]
        let report = BenchReport(
            system: "best-effort",
            settings: [
                "deadline_s": JSONValue(settings.deadlines[0]),
                "deadline_scale": JSONValue(settings.deadlines[0] / model.latency[best](B)), "mode": JSONValue(settings.mode.rawValue),
                "penalty": JSONValue(settings.penalty), "max_batch": JSONValue(B), "allow_drop": .bool(settings.allowDrop),
                "rate_window_s": JSONValue(settings.rateWindow), "queue_scale": JSONValue(settings.queueScale),
                "rate_scale_rps": JSONValue(settings.rateScale), "shared_server": .bool(settings.sharedServer), "window_s": JSONValue(window),
                "sweep_seconds": JSONValue(sweepSeconds), "sweep_points": JSONValue(points),
                "sweep_low_x_static_best_capacity": JSONValue(sweepLowOfBest), "sweep_high_x_smallest_capacity": JSONValue(sweepHighOfSmall),
                "sweep_seeds": JSONValue("\(sweepSeedBase) + point index"), "availability_target": JSONValue(availabilityTarget),
                "window_thresholds": [0.96, 0.98], "oracle_slacks": try JSONValue(encoding: oracleSlacks), "greedy_slack": JSONValue(greedySlack),
                "random_policy_seed": JSONValue(Int(randomSeed)), "burst_level_factors_x_static_best_capacity": try JSONValue(encoding: burstFactors),
                "burst_levels_rps": try JSONValue(encoding: burstLevels), "burst_dwell_s": JSONValue(dwell), "burst_seconds": JSONValue(seconds),
                "burst_seeds": .array(seeds.map { JSONValue(Int($0)) }), "arrival_shift_factor": JSONValue(arrivalShiftFactor),
                "arrival_shift_seed_offset": JSONValue(Int(arrivalShiftSeedOffset)),
                "mix_shift_weights": ["favoured": JSONValue(skewHigh), "others": JSONValue(skewLow), "switch_at_fraction": 0.5],
                "mix_shift_seed_offset": JSONValue(Int(mixShiftSeedOffset)), "dqn": try JSONValue(encoding: file.training),
                "policy_file": policyPath.map { JSONValue($0) } ?? .null, "tier_file": JSONValue(tierFile),
                "tier_machine": JSONValue(table.machine), "seed": JSONValue(Int(seed)),
            ],
            claims: claims, results: results)
        var details = "tiers (static-best = \(table.tiers[best].spec.name)); deadline \(String(format: "%.2f", settings.deadlines[0])) s, batch \(B)\n"
        for t in table.tiers {
            details += String(format: "  %@ quality %@  capacity %.2f req/s\n", pad(t.spec.name, 12),
                              t.quality.map { String(format: "%.2f", $0) }.joined(separator: " "), Double(B) / t.latency(batch: B))
        }
        details += pad("policy", 16) + " max λ@99%  avail  quality  win≥96%  win≥98%  shift-λ q  shift-mix q\n"
        for (name, _) in policies {
            let b = bursty[name]!
            details += pad(name, 16) + String(format: " %9.2f  %5.3f  %7.3f  %7.3f  %7.3f  %9.3f  %11.3f\n", maxRate[name]!, b["availability"]!,
                                              b["relative_quality"]!, b["windows_96"]!, b["windows_98"]!,
                                              arrivalShift[name]!["relative_quality"]!, mixShift[name]!["relative_quality"]!)
        }
        return (report, details)
    }
}

/// Left-aligns `s` in `n` columns.
private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
