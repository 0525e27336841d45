// SPDX-License-Identifier: Apache-2.0

import Foundation
public import GGUF
public import Tokenization
import Synchronization

/// Maps `general.architecture` values to model types. Adding an architecture is one file (a
/// ``LanguageModel``) plus one entry here, or one ``register(_:_:)`` call.
public enum ArchitectureRegistry {
    /// Builds a model from a parsed file.
    public typealias Loader = @Sendable (GGUFFile, ModelLoadOptions) throws -> any LanguageModel

    private static let builtIn: [String: Loader] = [
        // Llama-family decoders share one implementation.
        "llama": { try LlamaModel(file: $0, options: $1) },
        "mistral": { try LlamaModel(file: $0, options: $1) },
    ]
    private static let extra = Mutex<[String: Loader]>([:])

    /// Architecture names that can be loaded.
    public static var names: [String] { Set(builtIn.keys).union(extra.withLock { $0.keys }).sorted() }

    /// Registers (or replaces) the loader of an architecture outside the built-in ones.
    public static func register(_ architecture: String, _ loader: @escaping Loader) {
        extra.withLock { $0[architecture] = loader }
    }

    /// The model described by `file`, without tokenizer or template.
    /// - Throws: ``ModelError/unsupportedArchitecture(_:)`` for unknown architectures, or the loader's error.
    public static func loadModel(_ file: GGUFFile, options: ModelLoadOptions = ModelLoadOptions()) throws -> any LanguageModel {
        let arch = file.string("general.architecture") ?? "(missing)"
        guard let loader = extra.withLock({ $0[arch] }) ?? builtIn[arch] else { throw ModelError.unsupportedArchitecture(arch) }
        return try loader(file, options)
    }

    /// The model, tokenizer and chat template of a parsed file.
    public static func load(file: GGUFFile, path: String? = nil, options: ModelLoadOptions = ModelLoadOptions()) throws -> LoadedModel {
        try load(file: file, path: path, options: options, since: Date())
    }

    /// Maps and parses the GGUF file at `path`, then loads it as ``load(file:path:options:)`` does.
    /// - Throws: ``ModelError/unreadableFile(path:reason:)`` when the file cannot be read or parsed.
    public static func load(path: String, options: ModelLoadOptions = ModelLoadOptions()) throws -> LoadedModel {
        let start = Date()
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch { throw ModelError.unreadableFile(path: path, reason: "\(error)") }
        return try load(file: file, path: path, options: options, since: start)
    }

    /// Model and tokenizer of `file`; the load time counts from `start` (before parsing, when there was one).
    private static func load(file: GGUFFile, path: String?, options: ModelLoadOptions, since start: Date) throws -> LoadedModel {
        let model = try loadModel(file, options: options)
        let tokenizer = try Tokenizer(gguf: file)
        return LoadedModel(path: path, file: file, model: model, tokenizer: tokenizer, loadSeconds: Date().timeIntervalSince(start))
    }
}
