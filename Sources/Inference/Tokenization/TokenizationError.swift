// SPDX-License-Identifier: Apache-2.0

/// Problems building a tokenizer from model metadata.
public enum TokenizationError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A required `tokenizer.ggml.*` key is missing or mistyped.
    case missingMetadata(String)
    /// `tokenizer.ggml.model` names a tokenizer Tern does not implement.
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer Tern does not implement.
    case unsupportedPreTokenizer(String)
    /// Token and token-type arrays disagree in length.
    case inconsistentVocabulary(tokens: Int, types: Int)
    /// A token id outside the vocabulary.
    case tokenOutOfRange(Int, vocabularySize: Int)

    public var description: String {
        switch self {
        case .missingMetadata(let k): "tokenizer metadata '\(k)' is missing or has the wrong type"
        case .unsupportedModel(let m): "unsupported tokenizer model '\(m)' (supported: gpt2)"
        case .unsupportedPreTokenizer(let p): "unsupported pre-tokenizer '\(p)'"
        case .inconsistentVocabulary(let t, let ty): "vocabulary has \(t) tokens but \(ty) token types"
        case .tokenOutOfRange(let id, let n): "token id \(id) is outside the vocabulary (size \(n))"
        }
    }
}
