// SPDX-License-Identifier: Apache-2.0

import Foundation
public import Support
public import Tokenization
public import TransformerModels

/// A serving configuration of one model: how deep it runs and how the request is prompted.
public struct TierSpec: Codable, Sendable, Equatable {
    /// Short name (`L10-0shot`).
    public var name: String
    /// Decoder layers run before the final norm and head (early exit); the model's depth for the full model.
    public var layers: Int
    /// Solved examples prepended to the prompt (prompt-variant tiers).
    public var shots: Int
    /// GGUF file of the model; nil means the default model.
    public var modelPath: String?

    public init(name: String, layers: Int, shots: Int, modelPath: String? = nil) {
        self.name = name; self.layers = layers; self.shots = shots; self.modelPath = modelPath
    }

    /// SmolLM2-135M tiers: early exit after 10, 20, 30 layers zero-shot, and the full model 1-shot (one solved example: about twice the prompt).
    public static let smolLM2Default: [TierSpec] = [
        TierSpec(name: "L10-0shot", layers: 10, shots: 0),
        TierSpec(name: "L20-0shot", layers: 20, shots: 0),
        TierSpec(name: "L30-0shot", layers: 30, shots: 0),
        TierSpec(name: "L30-1shot", layers: 30, shots: 1),
    ]
}

/// What `tern profile` measured for one tier: quality per task and the batch-latency profile.
public struct TierProfile: Codable, Sendable, Equatable {
    public var spec: TierSpec
    /// Accuracy per task, in ``ChoiceTask`` order.
    public var quality: [Double]
    /// Batch sizes measured, ascending.
    public var batchSizes: [Int]
    /// Seconds for one batch of each size (fastest of the repetitions).
    public var seconds: [Double]

    public init(spec: TierSpec, quality: [Double], batchSizes: [Int], seconds: [Double]) {
        self.spec = spec; self.quality = quality; self.batchSizes = batchSizes; self.seconds = seconds
    }

    /// `L(b)`: seconds for a batch of `b` requests, interpolated linearly between measured sizes and
    /// extrapolated with the slope of the last two points above the largest. Timing noise can make a
    /// measured larger batch look faster than a smaller one; the profile is made non-decreasing first
    /// (a server can always run the smaller batch's work), so `L` is positive and monotone.
    public func latency(batch b: Int) -> Double {
        precondition(!batchSizes.isEmpty && b >= 1)
        var s = seconds
        for i in 1..<max(s.count, 1) { s[i] = max(s[i], s[i - 1]) }
        if batchSizes.count == 1 { return s[0] * Double(b) / Double(batchSizes[0]) }
        if b <= batchSizes[0] { return s[0] }
        for i in 1..<batchSizes.count where b <= batchSizes[i] {
            let f = Double(b - batchSizes[i - 1]) / Double(batchSizes[i] - batchSizes[i - 1])
            return s[i - 1] + f * (s[i] - s[i - 1])
        }
        let n = batchSizes.count
        let slope = (s[n - 1] - s[n - 2]) / Double(batchSizes[n - 1] - batchSizes[n - 2])
        return s[n - 1] + slope * Double(b - batchSizes[n - 1])
    }
}

/// The committed result of `tern profile`: every tier's quality and latency on one machine.
public struct TierTable: JSONFile, Sendable, Equatable {
    public var machine: String
    public var model: String
    public var itemsPerTask: Int
    public var threads: Int
    public var tasks: [String]
    /// Tiers in ascending cost (latency of a batch of 1).
    public var tiers: [TierProfile]

    public init(machine: String, model: String, itemsPerTask: Int, threads: Int, tasks: [String], tiers: [TierProfile]) {
        self.machine = machine; self.model = model; self.itemsPerTask = itemsPerTask; self.threads = threads; self.tasks = tasks
        self.tiers = tiers
    }
}

/// Measures tiers on the real model: option log-likelihood accuracy and batch latency.
///
/// A request is one multiple-choice item; serving it is one forward pass over
/// `prefix + prompt + option` for every option (logits for all positions), so a batch of `b`
/// requests is one `forward` call over `b × options` sequences, exactly as a tier server would run it.
public final class TierMeasurer {
    public let model: any LanguageModel
    public let tokenizer: Tokenizer

    /// Measures a model loaded through the registry.
    public convenience init(_ loaded: LoadedModel) {
        self.init(model: loaded.model, tokenizer: loaded.tokenizer)
    }

    public init(model: any LanguageModel, tokenizer: Tokenizer) { self.model = model; self.tokenizer = tokenizer }

    /// Token sequences of an item under a tier: one per option, and where each option starts.
    func sequences(_ item: ChoiceItem, task: ChoiceTask, shots: Int) -> [(tokens: [Int], optionStart: Int)] {
        let prompt = (shots > 0 ? task.fewShotPrefix(shots: shots) : "") + item.prompt
        let p = tokenizer.encode(prompt)
        return item.options.map { o in (p + tokenizer.encode(o, addBOS: false), p.count) }
    }

    /// Runs a batch of items through one tier; returns the chosen option of each.
    public func answer(_ batch: [(ChoiceItem, ChoiceTask)], tier: TierSpec) throws -> [Int] {
        var chunks: [SequenceChunk] = []
        var meta: [(item: Int, start: Int, tokens: [Int])] = []
        for (i, (item, task)) in batch.enumerated() {
            for s in sequences(item, task: task, shots: tier.shots) {
                chunks.append(SequenceChunk(cache: model.makeCache(capacity: s.tokens.count), tokens: s.tokens, logits: .all))
                meta.append((i, s.optionStart, s.tokens))
            }
        }
        var scores = [Double](repeating: 0, count: chunks.count)
        try model.forward(chunks, layerLimit: tier.layers) { ci, ti, logits in
            // Position ti predicts token ti+1: sum log p(option tokens).
            let m = meta[ci]
            guard ti + 1 >= m.start, ti + 1 < m.tokens.count else { return }
            var mx = -Float.infinity
            for v in logits where v > mx { mx = v }
            var z: Double = 0
            for v in logits { z += Double(expf(v - mx)) }
            scores[ci] += Double(logits[m.tokens[ti + 1]] - mx) - log(z)
        }
        var best = [Int](repeating: 0, count: batch.count)
        var bestScore = [Double](repeating: -.infinity, count: batch.count)
        var optionIndex = [Int](repeating: 0, count: batch.count)
        for (ci, m) in meta.enumerated() {
            if scores[ci] > bestScore[m.item] { bestScore[m.item] = scores[ci]; best[m.item] = optionIndex[m.item] }
            optionIndex[m.item] += 1
        }
        return best
    }

    /// Accuracy of a tier on each task over `count` generated items (seed fixed per task).
    public func quality(tier: TierSpec, itemsPerTask count: Int, batch: Int = 4, progress: () -> Void = {}) throws -> [Double] {
        try ChoiceTask.allCases.map { task in
            let items = task.items(count: count, seed: 7)
            var correct = 0
            for start in stride(from: 0, to: items.count, by: batch) {
                let slice = Array(items[start..<min(start + batch, items.count)])
                let answers = try answer(slice.map { ($0, task) }, tier: tier)
                correct += zip(answers, slice).filter { $0 == $1.answer }.count
                progress()
            }
            return Double(correct) / Double(items.count)
        }
    }

    /// Seconds of a batch of `b` requests (tasks mixed round-robin): the fastest of `repetitions`
    /// runs after one warm-up, i.e. the least-disturbed run on a shared machine.
    public func latency(tier: TierSpec, batch b: Int, repetitions: Int) throws -> Double {
        let tasks = ChoiceTask.allCases
        let batch = (0..<b).map { i in (tasks[i % tasks.count].items(count: 1 + i / tasks.count, seed: 99).last!, tasks[i % tasks.count]) }
        _ = try answer(batch, tier: tier)  // warm-up
        var times: [Double] = []
        for _ in 0..<repetitions {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try answer(batch, tier: tier)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return times.min()!
    }
}
