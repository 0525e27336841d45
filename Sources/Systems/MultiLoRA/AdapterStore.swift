// SPDX-License-Identifier: Apache-2.0

import Foundation
import GGUF
public import InferenceEngine
public import TransformerModels
import Synchronization

/// Why an adapter could not be registered or found.
public enum AdapterStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No adapter of that name is registered.
    case unknown(String)
    /// The name is empty, too long, has characters outside `[A-Za-z0-9._:-]`, or is the base model's.
    case invalidName(String)
    /// An adapter of that name is already registered.
    case alreadyLoaded(String)
    /// The path is not inside any directory the operator allowed (`--adapter-dir`), after
    /// resolving symbolic links and `..`; or no directory was allowed at all.
    case pathNotAllowed(String)
    /// The file is missing, unreadable, or not a valid adapter for this model.
    case badFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .unknown(let n): "unknown adapter '\(n)'"
        case .invalidName(let n): "invalid adapter name '\(n)': use 1-64 characters from A-Z a-z 0-9 . _ : - (and not the base model's name)"
        case .alreadyLoaded(let n): "an adapter named '\(n)' is already loaded"
        case .pathNotAllowed(let p): "'\(p)' is not inside an allowed adapter directory (start the server with --adapter-dir)"
        case .badFile(let p, let why): "cannot load adapter from '\(p)': \(why)"
        }
    }
}

/// The host-memory store of LoRA adapters a server can serve (S-LoRA's adapter store).
///
/// Adapters are registered by name; a request names one in its `model` field. Loading from a
/// path is confined to operator-allowed directories: the path is resolved (symbolic links, `..`)
/// and must lie inside one of them, so an HTTP client cannot make the server read arbitrary
/// files. A malformed file is rejected here, with the reason, and never reaches the engine.
/// Unloading removes the name; requests already running keep their reference until they finish.
public final class AdapterStore: AdapterSource {
    /// The base model's hyperparameters every adapter is checked against.
    public let hyperparameters: ModelHyperparameters
    /// The base model's architecture name.
    public let architecture: String
    /// Names that adapters may not take (the base model's id and aliases).
    public let reservedNames: Set<String>
    /// Resolved directories adapters may be loaded from.
    public let allowedDirectories: [String]
    /// Host-memory budget (bytes of f32 weights) for adapters registered on disk; the least
    /// recently used ones beyond it are dropped from memory and read again on their next request.
    public let hostBudgetBytes: Int
    private let adapters = Mutex<[String: LoRAAdapter]>([:])
    /// Disk loads already recorded as metrics (see `recordMetrics(into:)`).
    let reportedDiskLoads = Mutex<Int>(0)
    /// Disk tier (S-LoRA's adapters on disk): name → validated path, read on demand.
    private let onDisk = Mutex<DiskTier>(DiskTier())
    private struct DiskTier {
        var paths: [String: String] = [:]
        /// Disk-backed adapters now in memory, least recently used first.
        var cached: [(name: String, bytes: Int)] = []
        var cachedBytes = 0
        var loads = 0
    }

    /// Creates an empty store for a base model.
    public init(hyperparameters: ModelHyperparameters, architecture: String = "llama",
                allowedDirectories: [String] = [], reservedNames: Set<String> = [], hostBudgetBytes: Int = .max) {
        self.hyperparameters = hyperparameters; self.architecture = architecture; self.reservedNames = reservedNames
        self.allowedDirectories = allowedDirectories.map { Self.resolve($0) }; self.hostBudgetBytes = hostBudgetBytes
    }

    /// Registered adapter names (in memory or on disk), sorted.
    public var names: [String] {
        let resident = adapters.withLock { Set($0.keys) }
        return resident.union(onDisk.withLock { $0.paths.keys }).sorted()
    }

    /// Whether `name` is registered (without reading it from disk).
    public func contains(_ name: String) -> Bool {
        adapters.withLock { $0[name] != nil } || onDisk.withLock { $0.paths[name] != nil }
    }

    /// Disk-tier counters: adapters read from disk so far, and disk-backed adapters now in memory.
    public var diskStats: (loads: Int, cached: Int, cachedBytes: Int) { onDisk.withLock { ($0.loads, $0.cached.count, $0.cachedBytes) } }

    /// The adapter registered as `name`, read from disk first if it is registered there and not in
    /// memory (then the least recently used disk-backed adapters beyond ``hostBudgetBytes`` leave memory).
    public func adapter(named name: String) -> LoRAAdapter? {
        if let a = adapters.withLock({ $0[name] }) {
            onDisk.withLock { d in
                if let i = d.cached.firstIndex(where: { $0.name == name }) { d.cached.append(d.cached.remove(at: i)) }
            }
            return a
        }
        guard let path = onDisk.withLock({ $0.paths[name] }) else { return nil }
        // Validated at registration; a file changed since then fails here and reads as unknown.
        guard let a = try? read(name: name, path: path) else { return nil }
        let evicted: [String] = onDisk.withLock { d in
            d.loads += 1
            d.cached.append((name, a.byteCount))
            d.cachedBytes += a.byteCount
            var out: [String] = []
            while d.cachedBytes > hostBudgetBytes, d.cached.count > 1 {
                let old = d.cached.removeFirst()
                d.cachedBytes -= old.bytes
                out.append(old.name)
            }
            return out
        }
        return adapters.withLock { d in
            if d[name] == nil { d[name] = a }
            for n in evicted { d[n] = nil }
            return d[name] ?? a
        }
    }

    /// Registers the adapter at `path` (GGUF file or PEFT directory, inside an allowed directory)
    /// as `name` without keeping it in memory: it is validated now and read again when a request
    /// names it. This is how a server registers thousands of adapters.
    public func registerOnDisk(name: String, path: String) throws(AdapterStoreError) {
        try validate(name)
        if contains(name) { throw .alreadyLoaded(name) }
        let resolved = try confined(path)
        _ = try read(name: name, path: resolved)
        let added = onDisk.withLock { d -> Bool in
            guard d.paths[name] == nil else { return false }
            d.paths[name] = resolved
            return true
        }
        guard added else { throw .alreadyLoaded(name) }
    }

    /// Registers every adapter in `directory` on disk: each `*.gguf` file (named by its file name
    /// without the extension) and each PEFT subdirectory (named by the directory). Returns the count.
    @discardableResult
    public func registerDirectory(_ directory: String) throws(AdapterStoreError) -> Int {
        let entries: [String]
        do { entries = try FileManager.default.contentsOfDirectory(atPath: directory).sorted() } catch {
            throw .badFile(path: directory, reason: "cannot list the directory")
        }
        var count = 0
        for e in entries {
            let path = (directory as NSString).appendingPathComponent(e)
            var isDirectory: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            if isDirectory.boolValue {
                guard FileManager.default.fileExists(atPath: path + "/adapter_config.json") else { continue }
                try registerOnDisk(name: e, path: path)
            } else if e.hasSuffix(".gguf") {
                try registerOnDisk(name: String(e.dropLast(5)), path: path)
            } else {
                continue
            }
            count += 1
        }
        return count
    }

    /// Registers an adapter already in memory under its own name.
    public func register(_ adapter: LoRAAdapter) throws(AdapterStoreError) {
        try validate(adapter.name)
        let added = adapters.withLock { (d: inout [String: LoRAAdapter]) -> Bool in
            guard d[adapter.name] == nil else { return false }
            d[adapter.name] = adapter
            return true
        }
        guard added else { throw .alreadyLoaded(adapter.name) }
    }

    /// Loads an adapter (GGUF file or PEFT directory) from inside an allowed directory and
    /// registers it as `name`.
    public func load(name: String, path: String) throws(AdapterStoreError) -> LoRAAdapter {
        try validate(name)
        if contains(name) { throw .alreadyLoaded(name) }
        let resolved = try confined(path)
        return try loadTrusted(name: name, path: resolved)
    }

    /// Loads an adapter from any path (operator-supplied: `tern serve --lora NAME=PATH`): a GGUF
    /// file in llama.cpp's adapter layout, or a PEFT directory (`adapter_config.json` +
    /// `adapter_model.safetensors`).
    @discardableResult
    public func loadTrusted(name: String, path: String) throws(AdapterStoreError) -> LoRAAdapter {
        try validate(name)
        if contains(name) { throw .alreadyLoaded(name) }
        let adapter = try read(name: name, path: path)
        try register(adapter)
        return adapter
    }

    /// Reads and checks an adapter file or PEFT directory (no registration).
    private func read(name: String, path: String) throws(AdapterStoreError) -> LoRAAdapter {
        let adapter: LoRAAdapter
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .badFile(path: path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            do {
                return try PEFTAdapter.load(directory: path, name: name, hyperparameters: hyperparameters)
            } catch {
                throw .badFile(path: path, reason: error.description)
            }
        }
        do {
            let file = try GGUFFile(path: path)
            adapter = try LoRAAdapter(file: file, name: name, hyperparameters: hyperparameters, architecture: architecture)
        } catch let e as GGUFError {
            throw .badFile(path: path, reason: e.description)
        } catch let e as ModelError {
            throw .badFile(path: path, reason: e.description)
        } catch {
            throw .badFile(path: path, reason: "\(error)")
        }
        return adapter
    }

    /// Removes `name`; running requests that use it finish normally.
    public func unload(_ name: String) throws(AdapterStoreError) {
        let removed = adapters.withLock { $0.removeValue(forKey: name) }
        let removedDisk = onDisk.withLock { d -> String? in
            if let i = d.cached.firstIndex(where: { $0.name == name }) { d.cachedBytes -= d.cached.remove(at: i).bytes }
            return d.paths.removeValue(forKey: name)
        }
        guard removed != nil || removedDisk != nil else { throw .unknown(name) }
    }

    private func validate(_ name: String) throws(AdapterStoreError) {
        let ok = !name.isEmpty && name.count <= 64 && !reservedNames.contains(name)
            && name.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "._:-".unicodeScalars.contains($0) }
        guard ok else { throw .invalidName(name) }
    }

    /// `path` resolved, if it lies inside an allowed directory (the one confinement check for every
    /// load that a client can trigger).
    private func confined(_ path: String) throws(AdapterStoreError) -> String {
        let resolved = Self.resolve(path)
        guard allowedDirectories.contains(where: { resolved == $0 || resolved.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            throw .pathNotAllowed(path)
        }
        return resolved
    }

    /// `path` made absolute with symbolic links and `.`/`..` resolved (as far as it exists).
    static func resolve(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: absolute).standardizedFileURL.resolvingSymlinksInPath().path
    }
}

extension AdapterStore {
    /// The store a server builds for `model`: every adapter in `registerDirectories` registered on
    /// disk (read when first requested; at most `hostBudgetBytes` of them stay in memory), the
    /// operator's `preload` adapters (name, path) read now, and run-time loading confined to
    /// `allowedDirectories` plus the registered directories. A bad file stops here with the reason.
    /// - Returns: the store, and how many adapters were registered on disk.
    public static func serving(model: any LanguageModel, preload: [(name: String, path: String)] = [], registerDirectories: [String] = [],
                               allowedDirectories: [String] = [], reservedNames: Set<String> = [], hostBudgetBytes: Int = .max)
        throws(AdapterStoreError) -> (store: AdapterStore, onDisk: Int) {
        let store = AdapterStore(hyperparameters: model.hyperparameters, architecture: model.architecture,
                                 allowedDirectories: allowedDirectories + registerDirectories, reservedNames: reservedNames,
                                 hostBudgetBytes: hostBudgetBytes)
        var onDisk = 0
        for d in registerDirectories { onDisk += try store.registerDirectory(d) }
        for (name, path) in preload { try store.loadTrusted(name: name, path: path) }
        return (store, onDisk)
    }
}
