// SPDX-License-Identifier: Apache-2.0

public import Support
public import Foundation

/// One reproduction report: the shape every `tern bench <system> --json` prints and every committed
/// `bench/<system>/result.json` holds.
///
/// ```swift
/// var report = BenchReport(system: "epim", settings: ["epochs": 3, "quick": false])
/// report.claims.append(Claim(id: "area_reduction", setting: "ResNet-50, 3-bit", description: "crossbar area, epitome / plain",
///                            unit: "x", paper: .value(30.65), ours: 28.1, better: .higher, baseline: "plain ResNet-50"))
/// report.results = ["layers": 53]
/// print(try report.jsonString())
/// ```
public struct BenchReport: Codable, Sendable, Equatable {
    /// The system's short name (`slora`, `epim`, `magic`, ...), also its folder under `bench/`.
    public var system: String
    /// Where it ran.
    public var machine: MachineInfo
    /// The commit that produced it (`git describe`-style short hash, `-dirty` for uncommitted changes).
    public var commit: String
    /// When it was produced (ISO 8601, UTC).
    public var date: String
    /// Every setting the numbers depend on.
    public var settings: [String: JSONValue]
    /// The paper's claims beside ours.
    public var claims: [Claim]
    /// Raw measurements, system-specific.
    public var results: JSONValue

    /// Creates a report stamped with this machine, the current commit and the current time.
    public init(system: String, settings: [String: JSONValue] = [:], claims: [Claim] = [], results: JSONValue = [:],
                machine: MachineInfo = .current(), commit: String = BenchReport.currentCommit(), date: Date = Date()) {
        self.system = system; self.machine = machine; self.commit = commit; self.date = BenchReport.isoDate(date)
        self.settings = settings; self.claims = claims; self.results = results
    }

    /// The claim with `id` (and `setting`, when given).
    public func claim(_ id: String, setting: String? = nil) -> Claim? {
        claims.first { $0.id == id && (setting == nil || $0.setting == setting) }
    }

    /// Pretty-printed JSON with sorted keys (stable diffs for committed results).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// ``jsonData()`` as a string ending in a newline.
    public func jsonString() throws -> String { String(decoding: try jsonData(), as: UTF8.self) + "\n" }

    /// Decodes a report (a committed `result.json`).
    public static func load(path: String) throws -> BenchReport {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw BenchError.unreadable(path: path)
        }
        do {
            return try JSONDecoder().decode(BenchReport.self, from: data)
        } catch {
            throw BenchError.malformed(path: path, reason: "\(error)")
        }
    }

    /// Writes the report to `path`, creating folders as needed.
    public func write(to path: String) throws {
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try jsonData().write(to: url, options: .atomic)
    }

    static func isoDate(_ date: Date) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: date)
    }

    /// The short hash of `HEAD` in the current directory's repository (`-dirty` when tracked files
    /// changed), or `unknown` outside a repository. `TERN_COMMIT` overrides it.
    public static func currentCommit() -> String {
        if let c = ProcessInfo.processInfo.environment["TERN_COMMIT"], !c.isEmpty { return c }
        guard let head = git(["rev-parse", "--short=12", "HEAD"]), !head.isEmpty else { return "unknown" }
        let dirty = git(["status", "--porcelain", "--untracked-files=no"]).map { !$0.isEmpty } ?? false
        return head + (dirty ? "-dirty" : "")
    }

    private static func git(_ arguments: [String]) -> String? {
        guard let r = try? ChildProcess.run("git", arguments), r.status == 0 else { return nil }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Which direction of a claim's number is the paper's point.
public enum Better: String, Codable, Sendable {
    /// More is better (speed-ups, accuracy).
    case higher
    /// Less is better (latency, area, error).
    case lower
}

/// A paper's number: one value or a range (`{"low": 0.1, "high": 0.2}`).
public enum PaperValue: Codable, Sendable, Equatable {
    /// One number.
    case value(Double)
    /// A range the paper reports over settings.
    case range(low: Double, high: Double)

    private enum Keys: String, CodingKey { case low, high }

    public init(from decoder: any Decoder) throws {
        if let c = try? decoder.singleValueContainer(), let v = try? c.decode(Double.self) {
            self = .value(v)
            return
        }
        let c = try decoder.container(keyedBy: Keys.self)
        self = .range(low: try c.decode(Double.self, forKey: .low), high: try c.decode(Double.self, forKey: .high))
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .value(let v):
            var c = encoder.singleValueContainer()
            try c.encode(v)
        case .range(let low, let high):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(low, forKey: .low)
            try c.encode(high, forKey: .high)
        }
    }

    /// The value, or the range's midpoint.
    public var midpoint: Double {
        switch self {
        case .value(let v): v
        case .range(let low, let high): (low + high) / 2
        }
    }

    /// `30.65` or `1.37–1.5`.
    public var text: String {
        switch self {
        case .value(let v): formatNumber(v)
        case .range(let low, let high): formatNumber(low) + "–" + formatNumber(high)
        }
    }
}

/// One claim of a paper beside our measurement of it.
public struct Claim: Codable, Sendable, Equatable {
    /// Stable identifier (`throughput_vs_packed`).
    public var id: String
    /// The setting it was measured in (`5 adapters`); empty when there is one.
    public var setting: String
    /// What the number is.
    public var description: String
    /// Its unit (`x` for ratios, `%`, `tokens/s`, ...).
    public var unit: String
    /// The paper's number; `nil` where the paper gives none.
    public var paper: PaperValue?
    /// Ours, as measured by the run that wrote the report; `nil` when it could not be measured.
    public var ours: Double?
    /// Which direction is better.
    public var better: Better
    /// Whether ours points the same way as the paper (see ``Claim/judge(_:threshold:)``); `nil` when
    /// it cannot be judged.
    public var reproduced: Bool?
    /// What ours is compared against, in the same engine.
    public var baseline: String
    /// One line: why ours differs, or what it rests on.
    public var note: String

    /// Creates a claim. `reproduced` defaults to ``judge(_:better:threshold:)`` with the neutral
    /// threshold 1 for ratios (`unit == "x"`) the paper reports, and no verdict otherwise.
    public init(id: String, setting: String = "", description: String, unit: String, paper: PaperValue?, ours: Double?,
                better: Better, baseline: String, reproduced: Bool? = nil, note: String = "") {
        self.id = id; self.setting = setting; self.description = description; self.unit = unit; self.paper = paper
        self.ours = ours.flatMap { $0.isFinite ? $0 : nil }; self.better = better; self.baseline = baseline; self.note = note
        self.reproduced = reproduced ?? (unit == "x" && paper != nil ? Claim.judge(self.ours, better: better, threshold: 1) : nil)
    }

    private enum CodingKeys: String, CodingKey {
        case id, setting, description, unit, paper, ours, better, reproduced, baseline, note
    }

    /// Encodes every key, `null` included, so every claim has the same shape.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(setting, forKey: .setting)
        try c.encode(description, forKey: .description)
        try c.encode(unit, forKey: .unit)
        if let paper { try c.encode(paper, forKey: .paper) } else { try c.encodeNil(forKey: .paper) }
        if let ours { try c.encode(ours, forKey: .ours) } else { try c.encodeNil(forKey: .ours) }
        try c.encode(better, forKey: .better)
        if let reproduced { try c.encode(reproduced, forKey: .reproduced) } else { try c.encodeNil(forKey: .reproduced) }
        try c.encode(baseline, forKey: .baseline)
        try c.encode(note, forKey: .note)
    }

    /// Whether `ours` lies on the paper's side of `threshold` (the no-effect value: 1 for ratios,
    /// 0 for differences): above it when higher is better, below it when lower is better.
    public static func judge(_ ours: Double?, better: Better, threshold: Double) -> Bool? {
        guard let ours else { return nil }
        return better == .higher ? ours > threshold : ours < threshold
    }
}

/// Where a benchmark ran: enough to tell two machines apart and to read a speed figure.
public struct MachineInfo: Codable, Sendable, Equatable {
    /// CPU model name.
    public var cpu: String
    /// Online logical cores.
    public var cores: Int
    /// Physical memory in GiB.
    public var memoryGiB: Double
    /// Operating system.
    public var os: String

    /// Creates a description.
    public init(cpu: String, cores: Int, memoryGiB: Double, os: String) {
        self.cpu = cpu; self.cores = cores; self.memoryGiB = memoryGiB; self.os = os
    }

    /// This machine.
    public static func current() -> MachineInfo {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let cpu = info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        let memory = Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30)
        return MachineInfo(cpu: cpu, cores: ProcessInfo.processInfo.activeProcessorCount,
                           memoryGiB: (memory * 10).rounded() / 10, os: ProcessInfo.processInfo.operatingSystemVersionString)
    }

    /// One line: `AMD EPYC 7B13, 2 cores, 23.5 GiB` (unknown parts left out).
    public var summary: String {
        ([cpu] + (cores > 0 ? ["\(cores) cores"] : []) + (memoryGiB > 0 ? ["\(formatNumber(memoryGiB)) GiB"] : [])).joined(separator: ", ")
    }
}

/// Why a benchmark could not run or a report could not be read.
public enum BenchError: Error, CustomStringConvertible, Equatable {
    /// A report file could not be read.
    case unreadable(path: String)
    /// A report file is not a report.
    case malformed(path: String, reason: String)
    /// No system by that name.
    case unknownSystem(String, known: [String])
    /// The benchmark needs a chat model and the harness gave none.
    case noChatModel

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read \(path)"
        case .malformed(let path, let reason): "\(path) is not a reproduction report: \(reason)"
        case .unknownSystem(let name, let known): "unknown system '\(name)'; one of: \(known.joined(separator: ", "))"
        case .noChatModel: "this benchmark needs a chat model and none was given"
        }
    }
}

/// A number for tables: up to 4 significant digits, no exponent for ordinary magnitudes.
public func formatNumber(_ v: Double) -> String {
    guard v.isFinite else { return "-" }
    if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
    let magnitude = abs(v)
    let digits = magnitude >= 100 ? 1 : magnitude >= 10 ? 2 : magnitude >= 0.01 ? 3 : 5
    var s = String(format: "%.\(digits)f", v)
    while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
    return s
}
