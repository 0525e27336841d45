// SPDX-License-Identifier: Apache-2.0

import TransformerModels

/// Cosine similarity of two texts from the model's pooled last-layer hidden states.
func similarity(modelPath: String, _ a: String, _ b: String) throws -> Float {
    let loaded = try ArchitectureRegistry.load(path: modelPath)
    let v = try loaded.embed(texts: [a, b], pooling: .mean, normalize: true)
    return zip(v[0], v[1]).reduce(0) { $0 + $1.0 * $1.1 }
}
