// SPDX-License-Identifier: Apache-2.0

/// How token hidden states become one vector per text.
public enum EmbeddingPooling: String, Sendable, CaseIterable, Codable {
    /// The mean over every token.
    case mean
    /// The last token's state (what a causal model has read the whole text with).
    case last
}
