// SPDX-License-Identifier: Apache-2.0

/// Problems loading or running a model.
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `general.architecture` names an architecture no loader is registered for.
    case unsupportedArchitecture(String)
    /// A hyperparameter key is missing or invalid.
    case badHyperparameter(String)
    /// A weight tensor is missing.
    case missingTensor(String)
    /// A weight tensor has an unexpected shape.
    case badTensorShape(String, expected: [Int], found: [Int])
    /// A token id outside the vocabulary was given to the model.
    case tokenOutOfRange(Int, vocabularySize: Int)
    /// The sequence would exceed the KV cache or context length.
    case contextOverflow(needed: Int, capacity: Int)
    /// A LoRA adapter file is malformed or does not fit the model; the text says how.
    case badAdapter(String)
    /// An argument outside what the call accepts; the text says which.
    case invalidArgument(String)
    /// The model file cannot be read or parsed.
    case unreadableFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let a): "unsupported architecture '\(a)' (supported: \(ArchitectureRegistry.names.joined(separator: ", ")))"
        case .badHyperparameter(let k): "missing or invalid hyperparameter '\(k)'"
        case .missingTensor(let n): "missing weight tensor '\(n)'"
        case .badTensorShape(let n, let e, let f): "tensor '\(n)' has shape \(f), expected \(e)"
        case .tokenOutOfRange(let id, let n): "token id \(id) is outside the vocabulary (size \(n))"
        case .contextOverflow(let needed, let cap): "sequence needs \(needed) positions but the context holds \(cap)"
        case .badAdapter(let why): "bad LoRA adapter: \(why)"
        case .invalidArgument(let why): why
        case .unreadableFile(let path, let reason): "\(path): \(reason)"
        }
    }
}
