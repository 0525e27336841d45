// SPDX-License-Identifier: Apache-2.0

public import Support
public import Foundation
public import OpenAIAPI

/// A system's reproduction benchmark, run by the one generic `tern bench <name>` command.
///
/// A benchmark is a set of typed settings (with the defaults of a full run and of `--quick`) and one
/// function from settings to a report. The harness owns everything else: overriding settings from
/// the command line (`--set epochs=3`), stamping the report with the settings, resuming a full run
/// from its finished pieces, printing the table or JSON and writing `bench/<name>/result.json`.
///
/// ```swift
/// enum ToyBenchmark: SystemBenchmark {
///     struct Settings: Codable, Sendable { var trials = 100 }
///     static let name = "toy", title = "Toy", abstract = "Counts to a number."
///     static func settings(quick: Bool) -> Settings { Settings(trials: quick ? 10 : 100) }
///     static let settingsHelp = BenchSettings.help("trials  How many trials.")
///     static func run(_ s: Settings, context: BenchContext) async throws -> BenchOutcome {
///         let n = try context.checkpoint.piece("count") { s.trials }
///         return BenchOutcome(report: BenchReport(system: name, results: ["count": JSONValue(n)]))
///     }
/// }
/// ```
///
/// Settings are encoded with snake-case keys (`trainLimit` becomes `train_limit`); keep them
/// non-optional so every key shows in the report and can be overridden.
public protocol SystemBenchmark {
    /// Every knob of a run; encoded into the report's `settings`.
    associatedtype Settings: Codable & Sendable
    /// The short name: the `tern bench` argument, the report's `system`, the folder under `bench/`.
    static var name: String { get }
    /// The human title (`"S-LoRA"`).
    static var title: String { get }
    /// One line for `tern bench --list`.
    static var abstract: String { get }
    /// The defaults of a full run, or of the minute-long `--quick` run.
    static func settings(quick: Bool) -> Settings
    /// One line of help per setting key (snake case).
    static var settingsHelp: [String: String] { get }
    /// Runs the benchmark. Long work reports progress (on stderr) only where `context.showProgress`.
    static func run(_ settings: Settings, context: BenchContext) async throws -> BenchOutcome
}

/// What a run produced: the report and, for the human table, system-specific rows printed above
/// the claims.
public struct BenchOutcome: Sendable {
    /// The reproduction report.
    public var report: BenchReport
    /// Rows printed above the claims table (never in JSON mode).
    public var details: String

    /// Creates an outcome.
    public init(report: BenchReport, details: String = "") { self.report = report; self.details = details }
}

/// What the harness hands a benchmark besides its settings.
public struct BenchContext: Sendable {
    /// Whether this is the `--quick` run.
    public var quick: Bool
    /// Finished pieces of an interrupted full run (a no-op store for quick runs).
    public var checkpoint: BenchCheckpoint
    /// Whether to draw progress on stderr (off for `--json`).
    public var showProgress: Bool
    /// A folder for extra artifacts (plots, records), `DIR/<name>` under `--out DIR`; `nil` keeps none.
    public var artifacts: String?
    /// Turns a model name or path into a GGUF path (the CLI's model store; installs nothing).
    public var resolveModel: @Sendable (String) throws -> String
    /// Opens a chat model: the in-process engine over a registered model, or an OpenAI-compatible
    /// server. Systems that chat (agents, games) take their client from here.
    public var openChatModel: @Sendable (ChatModelSpec) async throws -> BenchChatModel
    /// The `tern` executable, for benchmarks that measure in fresh child processes.
    public var executable: String

    /// Creates a context.
    public init(quick: Bool, checkpoint: BenchCheckpoint = BenchCheckpoint(directory: nil, settings: [:]), showProgress: Bool = false,
                artifacts: String? = nil, resolveModel: @escaping @Sendable (String) throws -> String = { $0 },
                openChatModel: @escaping @Sendable (ChatModelSpec) async throws -> BenchChatModel = { _ in throw BenchError.noChatModel },
                executable: String = CommandLine.arguments[0]) {
        self.quick = quick; self.checkpoint = checkpoint; self.showProgress = showProgress; self.artifacts = artifacts
        self.resolveModel = resolveModel; self.openChatModel = openChatModel; self.executable = executable
    }
}

/// The settings of a benchmark that chats with a model carry the five fields a ``ChatModelSpec`` is
/// made of, under the same keys (`model`, `base_url`, `threads`, `ctx_size`, `prefix_cache`).
public protocol ChatModelSettings {
    var model: String { get }
    var baseURL: String { get }
    var threads: Int { get }
    var ctxSize: Int { get }
    var prefixCache: Bool { get }
}

extension ChatModelSettings {
    /// The chat model these settings name.
    public var chatModelSpec: ChatModelSpec {
        ChatModelSpec(model: model, baseURL: baseURL, threads: threads, contextSize: ctxSize, prefixCache: prefixCache)
    }
}

/// Which chat model a benchmark talks to.
public struct ChatModelSpec: Sendable, Equatable {
    /// A registered model name or GGUF path (in process), or the model id at `baseURL`.
    public var model: String
    /// An OpenAI-compatible server's API root; empty for the in-process engine.
    public var baseURL: String
    /// Threads and context size of the in-process engine.
    public var threads: Int, contextSize: Int
    /// KV reuse of identical prompt prefixes (in process).
    public var prefixCache: Bool

    /// Help for the settings a chatting benchmark names after these fields (`model`, `base_url`,
    /// `threads`, `ctx_size`, `prefix_cache`).
    public static let settingsHelp = BenchSettings.help("""
        model         registered model name or GGUF path (in process), or the model id at base_url
        base_url      an OpenAI-compatible server's API root instead of the in-process model (key from OPENAI_API_KEY)
        threads       threads of the in-process model
        ctx_size      context size of the in-process model
        prefix_cache  KV reuse of identical prompt prefixes (in process)
        """)

    /// Creates a spec.
    public init(model: String, baseURL: String = "", threads: Int = 2, contextSize: Int = 4096, prefixCache: Bool = true) {
        self.model = model; self.baseURL = baseURL; self.threads = threads; self.contextSize = contextSize; self.prefixCache = prefixCache
    }
}

/// An open chat model.
public struct BenchChatModel: Sendable {
    /// The client every chat goes through.
    public var client: any ChatModelClient
    /// The model id to send (the GGUF's name in process).
    public var model: String
    /// Empties the in-process engine's prefix cache (nil over HTTP), so samples start alike.
    public var clearPrefixCache: (@Sendable () -> Void)?
    /// Stops the in-process engine (a no-op over HTTP).
    public var shutdown: @Sendable () -> Void

    /// Creates one.
    public init(client: any ChatModelClient, model: String, clearPrefixCache: (@Sendable () -> Void)? = nil, shutdown: @escaping @Sendable () -> Void = {}) {
        self.client = client; self.model = model; self.clearPrefixCache = clearPrefixCache; self.shutdown = shutdown
    }
}

/// Settings as JSON: encoding, decoding and command-line overrides (`key=value`).
///
/// Reports and overrides name settings in snake case (`trainLimit` is `train_limit`, `baseURL` is
/// `base_url`); the Swift properties keep their own names.
public enum BenchSettings {
    /// `settings` as a JSON object with snake-case keys.
    public static func encode<S: Encodable>(_ settings: S) throws -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for (key, value) in try plain(settings) { out[snakeCase(key)] = value }
        return out
    }

    /// A help table written as text, one setting a line: the snake-case key, white space, the help
    /// (`"epochs   training epochs"` gives `["epochs": "training epochs"]`). Blank lines are
    /// skipped; a key without help or a key given twice is a programming error.
    public static func help(_ table: String) -> [String: String] {
        var out: [String: String] = [:]
        for line in table.split(separator: "\n") {
            let row = line.trimmingCharacters(in: .whitespaces)
            guard !row.isEmpty else { continue }
            let key = String(row.prefix { $0 != " " })
            let text = row.dropFirst(key.count).trimmingCharacters(in: .whitespaces)
            precondition(!text.isEmpty && out[key] == nil, "settings help: \(line)")
            out[key] = text
        }
        return out
    }

    /// `name` in snake case: a lower-to-upper boundary or the end of an acronym starts a new word.
    public static func snakeCase(_ name: String) -> String {
        let chars = Array(name)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase, i > 0 {
                let previousLower = chars[i - 1].isLowercase || chars[i - 1].isNumber
                let nextLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if previousLower || (chars[i - 1].isUppercase && nextLower) { out += "_" }
            }
            out += c.lowercased()
        }
        return out
    }

    /// `defaults` with each `key=value` applied. The key must be one of the settings in snake case
    /// (`-` may stand for `_`); the value is read as the type the default has (number,
    /// `true`/`false`, text, or a comma list).
    public static func apply<S: Codable>(_ overrides: [String], to defaults: S) throws -> S {
        guard !overrides.isEmpty else { return defaults }
        var object = try plain(defaults)
        let names = Dictionary(object.keys.map { (snakeCase($0), $0) }, uniquingKeysWith: { a, _ in a })
        for text in overrides {
            guard let equals = text.firstIndex(of: "=") else { throw BenchSettingsError.malformed(text) }
            let key = text[..<equals].trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "-", with: "_")
            let raw = String(text[text.index(after: equals)...])
            guard let name = names[key], let current = object[name] else { throw BenchSettingsError.unknownKey(key, known: names.keys.sorted()) }
            object[name] = try parse(raw, like: current, key: key)
        }
        do {
            return try JSONDecoder().decode(S.self, from: JSONEncoder().encode(JSONValue.object(object)))
        } catch {
            throw BenchSettingsError.invalid("\(error)")
        }
    }

    /// The settings' own keys and values.
    private static func plain<S: Encodable>(_ settings: S) throws -> [String: JSONValue] {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard case .object(let object) = try JSONDecoder().decode(JSONValue.self, from: encoder.encode(settings)) else {
            throw BenchSettingsError.notAnObject
        }
        return object
    }

    private static func parse(_ raw: String, like current: JSONValue, key: String) throws -> JSONValue {
        switch current {
        case .number:
            guard let v = Double(raw.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                throw BenchSettingsError.badValue(key: key, value: raw, expected: "a number")
            }
            return .number(v)
        case .bool:
            switch raw.lowercased() {
            case "true", "yes", "1", "on": return .bool(true)
            case "false", "no", "0", "off": return .bool(false)
            default: throw BenchSettingsError.badValue(key: key, value: raw, expected: "true or false")
            }
        case .array(let items):
            let parts = raw.isEmpty ? [] : raw.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            // An empty default gives no element type: numbers when every element reads as one.
            let like = items.first ?? (parts.allSatisfy { Double($0.trimmingCharacters(in: .whitespaces)) != nil } ? .number(0) : .string(""))
            return .array(try parts.map { try parse($0, like: like, key: key) })
        default:
            return .string(raw)
        }
    }
}

/// Why settings could not be overridden.
public enum BenchSettingsError: Error, CustomStringConvertible, Equatable {
    /// Settings that do not encode to a JSON object.
    case notAnObject
    /// An override without `=`.
    case malformed(String)
    /// A key the benchmark does not have.
    case unknownKey(String, known: [String])
    /// A value of the wrong type.
    case badValue(key: String, value: String, expected: String)
    /// The overridden settings do not decode.
    case invalid(String)

    public var description: String {
        switch self {
        case .notAnObject: "benchmark settings must encode to a JSON object"
        case .malformed(let s): "--set '\(s)': expected key=value"
        case .unknownKey(let k, let known): "--set: unknown setting '\(k)' (settings: \(known.joined(separator: ", ")))"
        case .badValue(let k, let v, let e): "--set \(k)=\(v): expected \(e)"
        case .invalid(let why): "--set: the settings do not decode: \(why)"
        }
    }
}
