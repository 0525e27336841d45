// SPDX-License-Identifier: Apache-2.0

public import GGUF

/// Maps `general.architecture` values to model loaders. Adding an architecture is one file plus one entry.
public enum ArchitectureRegistry {
    /// Loader signature: parsed file, threads, max batch tokens, max context.
    public typealias Loader = @Sendable (GGUFFile, Int, Int, Int?) throws -> LlamaModel

    static let loaders: [String: Loader] = [
        // Llama-family decoders share one implementation.
        "llama": { try LlamaModel(file: $0, threads: $1, maxBatchTokens: $2, maxContext: $3) },
        "mistral": { try LlamaModel(file: $0, threads: $1, maxBatchTokens: $2, maxContext: $3) },
    ]

    /// Architecture names that can be loaded.
    public static var names: [String] { loaders.keys.sorted() }

    /// Loads the model described by `file`.
    /// - Throws: ``ModelError/unsupportedArchitecture(_:)`` for unknown architectures, or the loader's error.
    public static func load(_ file: GGUFFile, threads: Int, maxBatchTokens: Int = 512, maxContext: Int? = nil) throws -> LlamaModel {
        let arch = file.string("general.architecture") ?? "(missing)"
        guard let loader = loaders[arch] else { throw ModelError.unsupportedArchitecture(arch) }
        return try loader(file, threads, maxBatchTokens, maxContext)
    }
}
