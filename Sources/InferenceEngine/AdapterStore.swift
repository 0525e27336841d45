// SPDX-License-Identifier: Apache-2.0

import Foundation
import GGUF
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
public final class AdapterStore: Sendable {
    /// The base model's hyperparameters every adapter is checked against.
    public let hyperparameters: LlamaHyperparameters
    /// The base model's architecture name.
    public let architecture: String
    /// Names that adapters may not take (the base model's id and aliases).
    public let reservedNames: Set<String>
    /// Resolved directories adapters may be loaded from.
    public let allowedDirectories: [String]
    private let adapters = Mutex<[String: LoRAAdapter]>([:])

    /// Creates an empty store for a base model.
    public init(hyperparameters: LlamaHyperparameters, architecture: String = "llama",
                allowedDirectories: [String] = [], reservedNames: Set<String> = []) {
        self.hyperparameters = hyperparameters
        self.architecture = architecture
        self.reservedNames = reservedNames
        self.allowedDirectories = allowedDirectories.map { Self.resolve($0) }
    }

    /// Registered adapter names, sorted.
    public var names: [String] { adapters.withLock { $0.keys.sorted() } }

    /// The adapter registered as `name`.
    public func adapter(named name: String) -> LoRAAdapter? { adapters.withLock { $0[name] } }

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
        if adapter(named: name) != nil { throw .alreadyLoaded(name) }
        let resolved = Self.resolve(path)
        guard allowedDirectories.contains(where: { resolved == $0 || resolved.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) else {
            throw .pathNotAllowed(path)
        }
        return try loadTrusted(name: name, path: resolved)
    }

    /// Loads an adapter from any path (operator-supplied: `tern serve --lora NAME=PATH`): a GGUF
    /// file in llama.cpp's adapter layout, or a PEFT directory (`adapter_config.json` +
    /// `adapter_model.safetensors`).
    @discardableResult
    public func loadTrusted(name: String, path: String) throws(AdapterStoreError) -> LoRAAdapter {
        try validate(name)
        let adapter: LoRAAdapter
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .badFile(path: path, reason: "no such file or directory")
        }
        if isDirectory.boolValue {
            do {
                adapter = try PEFTAdapter.load(directory: path, name: name, hyperparameters: hyperparameters)
            } catch {
                throw .badFile(path: path, reason: error.description)
            }
            try register(adapter)
            return adapter
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
        try register(adapter)
        return adapter
    }

    /// Removes `name`; running requests that use it finish normally.
    public func unload(_ name: String) throws(AdapterStoreError) {
        let removed = adapters.withLock { $0.removeValue(forKey: name) }
        guard removed != nil else { throw .unknown(name) }
    }

    private func validate(_ name: String) throws(AdapterStoreError) {
        let ok = !name.isEmpty && name.count <= 64 && !reservedNames.contains(name)
            && name.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || "._:-".unicodeScalars.contains($0) }
        guard ok else { throw .invalidName(name) }
    }

    /// `path` made absolute with symbolic links and `.`/`..` resolved (as far as it exists).
    static func resolve(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: absolute).standardizedFileURL.resolvingSymlinksInPath().path
    }
}
