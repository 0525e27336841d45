// SPDX-License-Identifier: Apache-2.0

import TestSupport
import Testing
import TransformerModels

@Suite("ForwardBatch: parallel per-token arrays")
struct ForwardBatchTests {
    let a = [5, 70, 200, 33, 101]
    let b = [9, 8, 7]

    /// Logits of every token of `tokens`, one sequence alone (the reference).
    func alone(_ model: any LanguageModel, _ tokens: [Int], layerLimit: Int? = nil) throws -> [[Float]] {
        try model.forward([SequenceChunk(cache: model.makeCache(capacity: 64), tokens: tokens, logits: .all)], layerLimit: layerLimit)
    }

    @Test("tokens added one by one with explicit fields give each sequence its own logits, in token order")
    func explicitFields() throws {
        let (model, _) = try tinyModel()
        var batch = ForwardBatch()
        let sa = batch.addSequence(cache: model.makeCache(capacity: 64))
        let sb = batch.addSequence(cache: model.makeCache(capacity: 64))
        for (i, t) in a.enumerated() { batch.append(token: t, position: i, sequence: sa, output: i == 1 || i == 4) }
        for (i, t) in b.enumerated() { batch.append(token: t, position: i, sequence: sb, output: true) }
        let out = try model.forward(batch)
        #expect(out.tokenIndices == [1, 4, 5, 6, 7])
        #expect(out.width == model.hyperparameters.vocabularySize)
        let rows = (0..<out.count).map { Array(out[$0]) }  // the view lasts only until the next forward
        let ra = try alone(model, a), rb = try alone(model, b)
        let expected = [ra[1], ra[4], rb[0], rb[1], rb[2]]
        for r in 0..<rows.count { #expect(maxAbsDiff(rows[r], expected[r]) < 1e-4, "row \(r)") }
        #expect(batch.caches[sa].count == a.count && batch.caches[sb].count == b.count)
    }

    @Test("mixed early-exit depths still return rows in token order, split into passes or not")
    func mixedDepths() throws {
        // maxBatch 3: the 8 tokens run in three passes, the deeper slot first.
        for maxBatch in [3, 64] {
            let (model, _) = try tinyModel(maxBatch: maxBatch)
            var batch = ForwardBatch()
            let shallow = batch.addSequence(cache: model.makeCache(capacity: 64), layerLimit: 1)
            let deep = batch.addSequence(cache: model.makeCache(capacity: 64))
            batch.append(a, to: shallow, outputs: .all)
            batch.append(b, to: deep, outputs: .last)
            let out = try model.forward(batch)
            #expect(out.tokenIndices == [0, 1, 2, 3, 4, 7])
            let rows = (0..<out.count).map { Array(out[$0]) }
            let ra = try alone(model, a, layerLimit: 1), rb = try alone(model, b)
            for r in 0..<5 { #expect(maxAbsDiff(rows[r], ra[r]) < 1e-4, "maxBatch \(maxBatch) row \(r)") }
            #expect(maxAbsDiff(rows[5], rb[2]) < 1e-4, "maxBatch \(maxBatch) deep row")
        }
    }

    @Test("a continued sequence starts at its cache's count")
    func continuation() throws {
        let (model, _) = try tinyModel()
        let cache = model.makeCache(capacity: 64)
        _ = try model.forward([SequenceChunk(cache: cache, tokens: Array(a.prefix(3)), logits: .none)])
        var batch = ForwardBatch()
        batch.append(Array(a.suffix(2)), to: batch.addSequence(cache: cache), outputs: .all)
        #expect(batch.positions == [3, 4])
        let last = Array(try model.forward(batch)[1])
        let ref = try alone(model, a)
        #expect(maxAbsDiff(last, ref[4]) < 1e-4)
    }

    @Test("malformed batches are clear errors and leave every cache unchanged")
    func errors() throws {
        let (model, _) = try tinyModel()
        let c0 = model.makeCache(capacity: 64), c1 = model.makeCache(capacity: 64)
        func expectError(_ message: String, _ build: (inout ForwardBatch) -> Void) {
            var batch = ForwardBatch()
            _ = batch.addSequence(cache: c0)
            _ = batch.addSequence(cache: c1)
            build(&batch)
            #expect(throws: ModelError.invalidArgument(message)) { try model.forward(batch) }
            #expect(c0.count == 0 && c1.count == 0)
        }
        expectError("the tokens of sequence slot 0 are not contiguous") { batch in
            batch.append(token: 5, position: 0, sequence: 0, output: false)
            batch.append(token: 5, position: 0, sequence: 1, output: false)
            batch.append(token: 6, position: 1, sequence: 0, output: true)
        }
        expectError("token 1: position 2, but sequence slot 0 continues at 1") { batch in
            batch.append(token: 5, position: 0, sequence: 0, output: false)
            batch.append(token: 6, position: 2, sequence: 0, output: true)
        }
        expectError("token 0: sequence slot 2 outside 0..<2") { batch in
            batch.append(token: 5, position: 0, sequence: 2, output: true)
        }
        expectError("token 0: adapter slot 0 outside -1..<0") { batch in
            batch.append(token: 5, position: 0, sequence: 0, output: true, adapter: 0)
        }
        expectError("forward batch: its per-token (or per-slot) arrays differ in length") { batch in
            batch.append(token: 5, position: 0, sequence: 0, output: true)
            batch.outputs.append(true)
        }
    }
}
