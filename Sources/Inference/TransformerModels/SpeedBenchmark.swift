// SPDX-License-Identifier: Apache-2.0

public import Benchmarks
import Foundation
import GGUF
import Kernels
import Support

#if canImport(Glibc)
import Glibc
#endif

/// The engine's speed against llama.cpp on the same GGUF, threads and token ids: prefill, decode,
/// batched decode and peak RSS.
///
/// Each repetition measures Tern in this process and then llama.cpp (llama-cpp-python, run
/// through `bench/llama_cpp_baseline.py`) in a child process, alternately; the table and the report
/// quote medians. CPU time used by anything else during each measurement is recorded (from
/// `/proc/stat` minus this process and its children) so a contaminated run shows.
public enum SpeedBenchmark: SystemBenchmark {
    /// Every knob of a run.
    public struct Settings: Codable, Sendable, Equatable {
        public var model = "smollm2-135m"
        public var threads = [1, 2]
        public var repetitions = 3
        /// Measure llama.cpp beside Tern (false: Tern only).
        public var baseline = true
        /// Python interpreter with llama-cpp-python 0.3.36 (bench/speed/run.sh installs it).
        public var python = "python3"
        /// Path of bench/llama_cpp_baseline.py ("" = look beside the working directory and the executable).
        public var baselineScript = ""
        public var promptLengths = [128, 512]
        public var decodeTokens = 128
        public var batchSizes = [8, 32]
        public var batchPrompt = 128
        public var batchSteps = 128
        /// Peak RSS from fresh processes (false: this process's peak).
        public var peakRSSProbe = true
        /// Creates the defaults of a full run.
        public init() {}
    }

    /// What one run measures.
    public struct Plan: Sendable {
        var promptLengths: [Int], decodeTokens: Int, batchSizes: [Int], batchPrompt: Int, batchSteps: Int
    }

    public static let name = "speed"
    public static let title = "Engine decode and prefill speed vs llama.cpp"
    public static let abstract = "CPU inference speed against llama.cpp: prefill, decode, batched decode, peak RSS"
    public static let settingsHelp = BenchSettings.help("""
        model            registered model name or GGUF path
        threads          thread counts
        repetitions      repetitions per measurement (medians reported)
        baseline         measure llama.cpp beside Tern
        python           python interpreter with llama-cpp-python 0.3.36
        baseline_script  path of bench/llama_cpp_baseline.py (empty = found from the working directory or the executable)
        prompt_lengths   prefill lengths
        decode_tokens    single-sequence decode steps
        batch_sizes      batched-decode sequence counts
        batch_prompt     prompt of each batched sequence
        batch_steps      batched decode steps
        peak_rss_probe   peak RSS from fresh processes (512 prefill + 128 decode)
        """)

    public static func settings(quick: Bool) -> Settings {
        var s = Settings()
        if quick {
            s.repetitions = 1; s.baseline = false; s.promptLengths = [32]; s.decodeTokens = 8; s.batchSizes = [4]; s.batchPrompt = 16
            s.batchSteps = 4; s.peakRSSProbe = false
        }
        return s
    }

    public static func run(_ s: Settings, context: BenchContext) async throws -> BenchOutcome {
        // Timed on a thread of its own, never on the cooperative pool (whose threads the model's
        // thread pool would share cores with).
        try await onDedicatedThread { try measure(s, context: context) }
    }

    static func measure(_ s: Settings, context: BenchContext) throws -> BenchOutcome {
        guard s.repetitions >= 1, !s.threads.isEmpty, s.threads.allSatisfy({ $0 >= 1 && $0 <= 256 }) else {
            throw SpeedBenchmarkError.invalidSetting("repetitions >= 1 and threads between 1 and 256")
        }
        let path = try context.resolveModel(s.model)
        let plan = Plan(promptLengths: s.promptLengths, decodeTokens: s.decodeTokens, batchSizes: s.batchSizes, batchPrompt: s.batchPrompt,
                        batchSteps: s.batchSteps)
        let script = s.baseline ? try locateBaseline(s.baselineScript, executable: context.executable) : nil
        func progress(_ line: String) { if context.showProgress { ProgressReporter.writeStandardError("bench speed: \(line)\n") } }
        var ours: [String: [String: [Double]]] = [:]    // threads -> metric -> repetitions
        var theirs: [String: [String: [Double]]] = [:]
        var others: [Double] = []                       // cores used by other processes per measurement
        for t in s.threads {
            let bench = try OurEngine(path: path, threads: t)
            for rep in 0..<s.repetitions {
                progress("threads \(t), repetition \(rep + 1)/\(s.repetitions): tern")
                let meter = CPUMeter()
                for (k, v) in try bench.measure(plan) { ours["\(t)", default: [:]][k, default: []].append(v) }
                others.append(meter.otherCores())
                if let script {
                    progress("threads \(t), repetition \(rep + 1)/\(s.repetitions): llama.cpp")
                    let meter = CPUMeter()
                    let r = try runBaseline(script, python: s.python, path: path, threads: t, plan: plan, rssOnly: false)
                    for (k, v) in r where k != "threads" { theirs["\(t)", default: [:]][k, default: []].append(v) }
                    others.append(meter.otherCores())
                }
            }
        }
        // Peak RSS: fresh processes doing a 512-token prefill and a 128-token decode.
        var rss: [String: Double] = [:]
        if s.peakRSSProbe {
            let t = s.threads.max()!
            let out = try runProcess(context.executable, ["bench", "rss-probe", "--model", path, "--threads", "\(t)"])
            guard let v = Double(out.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw SpeedBenchmarkError.childFailed("rss probe printed \(out)") }
            rss["ours"] = v
            if let script { rss["llamacpp"] = try runBaseline(script, python: s.python, path: path, threads: t, plan: plan, rssOnly: true)["peak_rss_mb"] }
        } else {
            rss["ours"] = peakRSSMegabytes()
        }
        let report = Report(path: path, plan: plan, reps: s.repetitions, ours: ours, theirs: theirs, rss: rss, others: others,
                            threadCounts: s.threads, quick: context.quick)
        return BenchOutcome(report: report.report(), details: report.table())
    }

    /// The child side of the RSS measurement: a 512-token prefill and a 128-token decode in a fresh
    /// process; returns the peak resident set in MB (`tern bench rss-probe` prints it).
    public static func probeRSS(path: String, threads: Int) throws -> Double {
        let engine = try OurEngine(path: path, threads: threads)
        let cache = engine.model.makeCache(capacity: 1024)
        var next = try engine.step(cache, OurEngine.tokenIDs(512))
        for _ in 0..<128 { next = try engine.step(cache, [next]) }
        return peakRSSMegabytes()
    }

    static func locateBaseline(_ given: String, executable: String) throws -> String {
        var candidates: [String] = []
        if !given.isEmpty { candidates.append(given) }
        candidates.append(FileManager.default.currentDirectoryPath + "/bench/llama_cpp_baseline.py")
        var dir = URL(fileURLWithPath: executable).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("bench/llama_cpp_baseline.py").path)
            dir = dir.deletingLastPathComponent()
        }
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw SpeedBenchmarkError.invalidSetting("baseline_script: bench/llama_cpp_baseline.py not found (set baseline_script, or baseline=false)")
        }
        return found
    }

    static func runBaseline(_ script: String, python: String, path: String, threads: Int, plan: Plan, rssOnly: Bool) throws -> [String: Double] {
        var args = [script, "--model", path, "--threads", "\(threads)",
                    "--prompt-lengths", plan.promptLengths.map(String.init).joined(separator: ","),
                    "--decode-tokens", "\(plan.decodeTokens)",
                    "--batch-sizes", plan.batchSizes.map(String.init).joined(separator: ","),
                    "--batch-prompt", "\(plan.batchPrompt)", "--batch-steps", "\(plan.batchSteps)"]
        if rssOnly { args.append("--rss-only") }
        let out = try runProcess(python, args)
        guard let line = out.split(separator: "\n").last,
              case .object(let obj)? = try? JSONDecoder().decode(JSONValue.self, from: Data(line.utf8)) else {
            throw SpeedBenchmarkError.childFailed("llama.cpp baseline printed no JSON: \(out.suffix(500))")
        }
        return obj.compactMapValues(\.numberValue)
    }
}

/// Why the speed benchmark could not run.
public enum SpeedBenchmarkError: Error, CustomStringConvertible {
    case invalidSetting(String)
    case childFailed(String)

    public var description: String {
        switch self {
        case .invalidSetting(let why): "speed setting \(why)"
        case .childFailed(let why): why
        }
    }
}

/// Tern's side of the benchmark: one loaded model and the measurements on it.
private struct OurEngine {
    let model: any LanguageModel

    init(path: String, threads: Int) throws {
        model = try ArchitectureRegistry.load(path: path, options: ModelLoadOptions(threads: threads, maxBatchTokens: 512, maxContext: 1024)).model
    }

    /// Deterministic token ids, the same as the llama.cpp script's.
    static func tokenIDs(_ n: Int, offset: Int = 0) -> [Int] { (0..<n).map { 1000 + (($0 + offset) * 37) % 20000 } }

    /// Feeds `tokens` to one sequence and returns the greedy next token.
    func step(_ cache: KVCache, _ tokens: [Int]) throws -> Int {
        var next = 0
        try model.forward([SequenceChunk(cache: cache, tokens: tokens)]) { _, _, logits in next = Sampler.argmax(logits) }
        return next
    }

    func measure(_ plan: SpeedBenchmark.Plan) throws -> [String: Double] {
        var out: [String: Double] = [:]
        let cache = model.makeCache(capacity: 1024)
        _ = try step(cache, Self.tokenIDs(16))  // warm-up: page in the weights
        for n in plan.promptLengths {
            cache.reset()
            let ids = Self.tokenIDs(n)
            let t0 = DispatchTime.now()
            _ = try step(cache, ids)
            out["prefill_\(n)"] = Double(n) / seconds(since: t0)
        }
        if plan.decodeTokens > 0 {
            cache.reset()
            let prompt = Self.tokenIDs(8)
            var next = try step(cache, prompt)
            let t0 = DispatchTime.now()
            for _ in 0..<plan.decodeTokens { next = try step(cache, [next]) }
            out["decode"] = Double(plan.decodeTokens) / seconds(since: t0)
        }
        for b in plan.batchSizes {
            let caches = (0..<b).map { _ in model.makeCache(capacity: plan.batchPrompt + plan.batchSteps + 16) }
            var next = try caches.enumerated().map { try step($0.element, Self.tokenIDs(plan.batchPrompt, offset: $0.offset)) }
            let t0 = DispatchTime.now()
            for _ in 0..<plan.batchSteps {
                let chunks = (0..<b).map { SequenceChunk(cache: caches[$0], tokens: [next[$0]]) }
                try model.forward(chunks) { ci, _, logits in next[ci] = Sampler.argmax(logits) }
            }
            out["batched_\(b)"] = Double(b * plan.batchSteps) / seconds(since: t0)
        }
        return out
    }

    func seconds(since t0: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - t0.uptimeNanoseconds) / 1e9
    }
}

/// CPU time used by other processes while a measurement runs, in cores: the machine's busy time
/// from `/proc/stat` minus this process's and its children's.
private struct CPUMeter {
    let start = DispatchTime.now()
    let busy0 = CPUMeter.machineBusySeconds()
    let own0 = CPUMeter.ownSeconds()

    func otherCores() -> Double {
        let wall = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let other = (Self.machineBusySeconds() - busy0) - (Self.ownSeconds() - own0)
        return wall > 0 ? max(0, other / wall) : 0
    }

    static func machineBusySeconds() -> Double {
        guard let s = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = s.split(separator: "\n").first else { return 0 }
        let f = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard f.count >= 5 else { return 0 }
        return (f.reduce(0, +) - f[3] - f[4]) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func ownSeconds() -> Double {
        var total = 0.0
        for who in [RUSAGE_SELF, RUSAGE_CHILDREN] {
            var u = rusage()
            getrusage(__rusage_who_t(who.rawValue), &u)
            total += Double(u.ru_utime.tv_sec) + Double(u.ru_utime.tv_usec) / 1e6
                + Double(u.ru_stime.tv_sec) + Double(u.ru_stime.tv_usec) / 1e6
        }
        return total
    }
}

/// Peak resident set of this process in MB: `VmHWM` from `/proc/self/status`. (`ru_maxrss` is not
/// used: Linux carries it across `fork` + `exec`, so a child spawned by a large parent would report
/// the parent's peak.)
private func peakRSSMegabytes() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kb = line.split(separator: " ").compactMap({ Double($0) }).first else {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Double(u.ru_maxrss) / 1024
    }
    return kb / 1024
}

/// Runs a program and returns its standard output (standard error is passed through on failure).
private func runProcess(_ exe: String, _ args: [String]) throws -> String {
    let r = try ChildProcess.run(exe, args)
    guard r.status == 0 else { throw SpeedBenchmarkError.childFailed("\(exe) \(args.first ?? "") failed (\(r.status)): \(r.stderr.suffix(800))") }
    return r.stdout
}

/// Medians, ratios, the table and the reproduction report.
private struct Report {
    let path: String
    let plan: SpeedBenchmark.Plan
    let reps: Int
    let ours: [String: [String: [Double]]]
    let theirs: [String: [String: [Double]]]
    let rss: [String: Double]
    let others: [Double]
    let threadCounts: [Int]
    let quick: Bool

    struct Row {
        let id: String
        let label: String
        let threads: Int?
        let ours: Double?
        let theirs: Double?
        let target: Double?
        let lowerIsBetter: Bool
        /// Ours over theirs in either direction (speed: higher is better; memory: lower is better).
        var ratio: Double? {
            guard let o = ours, let t = theirs, o > 0, t > 0 else { return nil }
            return o / t
        }
        var met: Bool? {
            guard let r = ratio, let target else { return nil }
            return lowerIsBetter ? r <= target : r >= target
        }
    }

    static func median(_ xs: [Double]?) -> Double? { xs.flatMap(Statistics.median) }

    var rows: [Row] {
        var rows: [Row] = []
        for t in threadCounts {
            let k = "\(t)"
            func row(_ metric: String, _ id: String, _ label: String, _ target: Double?) -> Row {
                Row(id: id, label: label, threads: t, ours: Self.median(ours[k]?[metric]),
                    theirs: Self.median(theirs[k]?[metric]), target: target, lowerIsBetter: false)
            }
            for n in plan.promptLengths {
                rows.append(row("prefill_\(n)", "prefill_\(n)_\(t)t_vs_llamacpp", "prefill \(n) tokens (tok/s)", 2.0))
            }
            if plan.decodeTokens > 0 {
                rows.append(row("decode", "decode_\(t)t_vs_llamacpp", "decode \(plan.decodeTokens) tokens (tok/s)", t == 1 ? 1.0 : 1.5))
            }
            for b in plan.batchSizes {
                rows.append(row("batched_\(b)", "batched_\(b)_\(t)t_vs_llamacpp", "batched decode, \(b) sequences (tok/s)", b >= 32 ? 2.0 : nil))
            }
        }
        rows.append(Row(id: "peak_rss_vs_llamacpp", label: "peak RSS, 512 prefill + 128 decode (MB)", threads: threadCounts.max(),
                        ours: rss["ours"], theirs: rss["llamacpp"], target: 1.5, lowerIsBetter: true))
        return rows
    }

    var machine: String { MachineInfo.current().summary + ", kernels \(SIMDKernels.detected)" }

    func report() -> BenchReport {
        let baseline = "llama.cpp (llama-cpp-python 0.3.36) same GGUF, same threads"
        let claims: [Claim] = rows.map { r in
            var d = "Tern / llama.cpp, \(r.label)"
            if let t = r.threads { d += ", \(t) thread\(t == 1 ? "" : "s")" }
            let note = r.target.map { (r.lowerIsBetter ? "target <= " : "target >= ") + formatNumber($0) + "x; reproduced = target met" } ?? ""
            return Claim(id: r.id, setting: r.threads.map { "\($0) thread\($0 == 1 ? "" : "s")" } ?? "", description: d, unit: "x",
                         paper: nil, ours: r.ratio.map { ($0 * 1000).rounded() / 1000 }, better: r.lowerIsBetter ? .lower : .higher,
                         baseline: baseline, reproduced: r.met, note: note)
        }
        let settings: [String: JSONValue] = [
            "model": JSONValue((path as NSString).lastPathComponent), "threads": JSONValue(threadCounts), "repetitions": JSONValue(reps),
            "quick": JSONValue(quick), "prompt_lengths": JSONValue(plan.promptLengths), "decode_tokens": JSONValue(plan.decodeTokens),
            "batch_sizes": JSONValue(plan.batchSizes), "batch_prompt": JSONValue(plan.batchPrompt), "batch_steps": JSONValue(plan.batchSteps),
            "greedy": true, "kernels": JSONValue("\(SIMDKernels.detected)"),
            "openblas_coretype": ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { JSONValue($0) } ?? .null,
        ]
        let medians: [JSONValue] = rows.map { r in
            ["id": JSONValue(r.id), "threads": r.threads.map { JSONValue($0) } ?? .null, "ours": JSONValue(r.ours),
             "llamacpp": JSONValue(r.theirs), "ratio": JSONValue(r.ratio), "target": JSONValue(r.target), "met": r.met.map { JSONValue($0) } ?? .null]
        }
        func runs(_ m: [String: [String: [Double]]]) -> JSONValue { .object(m.mapValues { .object($0.mapValues { JSONValue($0) }) }) }
        let results: JSONValue = [
            "ours": runs(ours), "llamacpp": runs(theirs), "peak_rss_mb": .object(rss.mapValues { JSONValue($0) }), "medians": .array(medians),
            "other_cpu_cores_per_measurement": JSONValue(others), "max_other_cpu_cores": JSONValue(others.max() ?? 0),
        ]
        return BenchReport(system: "speed", settings: settings, claims: claims, results: results)
    }

    func table() -> String {
        func f(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "-" }
        var s = "Tern vs llama.cpp (\((path as NSString).lastPathComponent)), medians of \(reps)\n"
        s += "machine: \(machine)\n\n"
        s += "metric                                        threads      tern  llama.cpp    ratio  target\n"
        for r in rows {
            let target = r.target.map { (r.lowerIsBetter ? "<=" : ">=") + String(format: "%.1fx", $0) + (r.met == true ? " ok" : r.met == false ? " MISS" : "") } ?? ""
            let ratio = r.ratio.map { String(format: "%.2fx", $0) } ?? "-"
            func right(_ x: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - x.count)) + x }
            s += r.label.padding(toLength: 45, withPad: " ", startingAt: 0) + right(r.threads.map(String.init) ?? "-", 8)
                + right(f(r.ours), 10) + right(f(r.theirs), 11) + right(ratio, 9) + "  " + target + "\n"
        }
        s += String(format: "\nother processes used at most %.2f cores during a measurement\n", others.max() ?? 0)
        return s
    }
}
