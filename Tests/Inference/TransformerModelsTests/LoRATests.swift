// SPDX-License-Identifier: Apache-2.0

import Support
import GGUF
import Kernels
import TestSupport
import Testing
import TransformerModels

/// Rewrites a GGUF image with `W ← W + s·B·A` for every pair of `adapter` (f32 weights only):
/// the merged model an unmerged LoRA forward must equal.
private func merged(_ base: GGUFFile, _ adapter: LoRAAdapter) -> [UInt8] {
    var w = GGUFWriter()
    for key in base.metadataKeys { w.set(key, base.metadata[key]!) }
    for info in base.tensors {
        var floats: [Float]? = nil
        let parts = info.name.split(separator: ".")
        if parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]),
           let target = LoRAAdapter.Target.allCases.first(where: { $0.ggufName == parts[2] }),
           let p = adapter.pair(layer: layer, target) {
            precondition(info.type == .f32, "merge test needs f32 weights")
            var m = base.floats(for: info)  // [outputs, inputs]
            for o in 0..<p.outputs {
                for i in 0..<p.inputs {
                    var s: Float = 0
                    for r in 0..<p.rank { s += p.bT[r * p.outputs + o] * p.a[r * p.inputs + i] }
                    m[o * p.inputs + i] += p.scale * s
                }
            }
            floats = m
        }
        if let floats {
            w.addTensor(name: info.name, shape: info.shape, floats: floats)
        } else {
            w.addTensor(name: info.name, shape: info.shape, type: info.type, data: Array(base.data(for: info)))
        }
    }
    return w.bytes()
}

@Suite("LoRA adapters")
struct LoRATests {
    let prompt = [5, 70, 200, 33, 101, 268, 40, 41, 42, 7, 99, 150]

    @Test("shrink + expand kernels equal the Double reference, mixed ranks")
    func kernels() {
        var rng = SeededRandom(seed: 77)
        for (tokens, cols, rows, rank) in [(1, 64, 48, 1), (3, 96, 40, 8), (7, 576, 192, 16), (2, 40, 13, 5)] {
            let x = rng.floats(tokens * cols), a = rng.floats(rank * cols), bT = rng.floats(rank * rows)
            var y = rng.floats(tokens * rows), ref = y
            var u = [Float](repeating: 0, count: tokens * rank)
            LoRAKernels.shrink(x, ldx: cols, tokens: tokens, a: a, rank: rank, cols: cols, u: &u)
            LoRAKernels.expand(u, tokens: tokens, bT: bT, rank: rank, rows: rows, scale: 0.7, y: &y, ldy: rows)
            LoRAKernels.reference(x, tokens: tokens, cols: cols, a: a, bT: bT, rank: rank, rows: rows, scale: 0.7, y: &ref)
            #expect(maxAbsDiff(y, ref) < 1e-4, "tokens \(tokens) cols \(cols) rank \(rank)")
        }
    }

    @Test("paged f16 kernels equal their references")
    func pagedKernels() {
        var rng = SeededRandom(seed: 31)
        for (tokens, cols, rows, rank) in [(1, 64, 48, 1), (3, 96, 40, 8), (5, 576, 192, 16), (2, 40, 13, 5)] {
            let a = rng.floats(rank * cols).map { Float16($0) }, b = rng.floats(rank * rows).map { Float16($0) }
            let x = rng.floats(tokens * cols)
            var y = rng.floats(tokens * rows), ref = y
            var u = [Float](repeating: 0, count: tokens * rank), uRef = u
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in
                let aRows = (0..<rank).map { ap.baseAddress! + $0 * cols }, bRows = (0..<rank).map { bp.baseAddress! + $0 * rows }
                LoRAKernels.shrinkPaged(x, ldx: cols, tokens: tokens, aRows: aRows, rank: rank, cols: cols, u: &u)
                LoRAKernels.shrinkPagedReference(x, ldx: cols, tokens: tokens, aRows: aRows, rank: rank, cols: cols, u: &uRef)
                LoRAKernels.expandPaged(u, tokens: tokens, bRows: bRows, rank: rank, rows: rows, scale: 0.5, y: &y, ldy: rows)
                LoRAKernels.expandPagedReference(u, tokens: tokens, bRows: bRows, rank: rank, rows: rows, scale: 0.5, y: &ref, ldy: rows)
            }}
            #expect(zip(u, uRef).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
            #expect(zip(y, ref).allSatisfy { abs($0 - $1) <= 1e-4 * max(1, abs($1)) })
        }
    }

    @Test("an unmerged adapter equals the adapter merged into f32 weights")
    func unmergedEqualsMerged() throws {
        var c = TinyModels.Configuration()
        c.weightType = .f32
        let baseFile = try GGUFFile(bytes: TinyModels.llama(c))
        let base = try ArchitectureRegistry.loadModel(baseFile, options: ModelLoadOptions(threads: 1, maxBatchTokens: 64))
        let adapter = LoRAAdapter.synthetic(name: "all", hyperparameters: base.hyperparameters, rank: 4,
                                            targets: LoRAAdapter.Target.allCases, magnitude: 0.2, seed: 3)
        let mergedModel = try ArchitectureRegistry.loadModel(try GGUFFile(bytes: merged(baseFile, adapter)), options: ModelLoadOptions(threads: 1, maxBatchTokens: 64))

        let cacheA = base.makeCache(capacity: 64), cacheB = mergedModel.makeCache(capacity: 64), cacheC = base.makeCache(capacity: 64)
        let unmerged = try base.forward([SequenceChunk(cache: cacheA, tokens: prompt, logits: .all, adapter: adapter)])
        let reference = try mergedModel.forward([SequenceChunk(cache: cacheB, tokens: prompt, logits: .all)])
        let plain = try base.forward([SequenceChunk(cache: cacheC, tokens: prompt, logits: .all)])
        let diff = zip(unmerged, reference).map { maxAbsDiff($0, $1) }.max()!
        let effect = zip(plain, reference).map { maxAbsDiff($0, $1) }.max()!
        #expect(diff < 1e-3, "unmerged vs merged logits differ by \(diff)")
        #expect(effect > 0.05, "the adapter should change the logits (changed by \(effect))")
        // Decode steps too (single-token passes take the other kernels).
        for token in [9, 18, 27] {
            let u = try base.forward([SequenceChunk(cache: cacheA, tokens: [token], adapter: adapter)])[0]
            let m = try mergedModel.forward([SequenceChunk(cache: cacheB, tokens: [token])])[0]
            #expect(maxAbsDiff(u, m) < 1e-3)
        }
    }

    @Test("a batch of mixed adapters (and none) equals each sequence run alone")
    func mixedBatchEqualsAlone() throws {
        let (model, _) = try tinyModel()
        let hp = model.hyperparameters
        let a = LoRAAdapter.synthetic(name: "a", hyperparameters: hp, rank: 8, magnitude: 0.2, seed: 1)
        let b = LoRAAdapter.synthetic(name: "b", hyperparameters: hp, rank: 3, targets: [.q, .v, .down], magnitude: 0.2, seed: 2)
        let adapters: [LoRAAdapter?] = [a, nil, b, a]
        let prompts = [prompt, Array(prompt.prefix(5)), Array(prompt.reversed()), [1, 2, 3]]
        var alone: [[Float]] = []
        for (p, ad) in zip(prompts, adapters) {
            alone.append(try model.forward([SequenceChunk(cache: model.makeCache(capacity: 64), tokens: p, adapter: ad)])[0])
        }
        let caches = prompts.map { _ in model.makeCache(capacity: 64) }
        let together = try model.forward(zip(zip(prompts, adapters), caches).map { SequenceChunk(cache: $1, tokens: $0.0, adapter: $0.1) })
        for i in 0..<prompts.count { #expect(maxAbsDiff(together[i], alone[i]) <= 1e-5, "sequence \(i)") }
        #expect(maxAbsDiff(alone[0], alone[3]) > 0 || prompts[0] == prompts[3])
        // One decode step for all four at once against single steps.
        let step = try model.forward(caches.enumerated().map { SequenceChunk(cache: $1, tokens: [10 + $0], adapter: adapters[$0]) })
        #expect(step.count == 4 && step.allSatisfy { $0.allSatisfy(\.isFinite) })
    }

    @Test("an adapter built for another model is refused at forward time, not crashed on")
    func wrongModel() throws {
        let (model, _) = try tinyModel()
        var other = TinyModels.Configuration()
        other.hidden = 128
        let (small, _) = try tinyModel(other)
        let wrong = LoRAAdapter.synthetic(name: "w", hyperparameters: small.hyperparameters, rank: 2, seed: 1)
        #expect(throws: ModelError.self) {
            try model.forward([SequenceChunk(cache: model.makeCache(capacity: 16), tokens: [1, 2], adapter: wrong)])
        }
    }
}
