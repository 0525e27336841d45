// SPDX-License-Identifier: Apache-2.0

import Foundation
import InferenceEngine
import Tokenization

/// Serves choice items the way `tern serve` does: each item a generation constrained to its options,
/// through the continuous-batching engine with the tier's early exit and few-shot prefix.
struct EngineTierServer: Sendable {
    let engine: EngineClient
    let tokenizer: Tokenizer

    /// A server over a started engine.
    init(engine: EngineClient, tokenizer: Tokenizer) {
        self.engine = engine
        self.tokenizer = tokenizer
    }

    /// The chosen option of each item, all submitted at once.
    func answer(_ batch: [(ChoiceItem, ChoiceTask)], tier: TierSpec) async throws -> [Int] {
        let streams = try batch.map { item, task in
            let prompt = (tier.shots > 0 ? task.fewShotPrefix(shots: tier.shots) : "") + item.prompt
            return try engine.submit(GenerationRequest(prompt: tokenizer.encode(prompt), maxTokens: 8,
                                                       constraint: ChoiceConstraint(item.options),
                                                       layerLimit: tier.layers < engine.layerCount ? tier.layers : nil))
        }
        var answers: [Int] = []
        for (s, (item, _)) in zip(streams, batch) {
            var text = ""
            for try await e in s { if case .token(_, let t, _) = e { text += t } }
            answers.append(item.options.firstIndex(of: text) ?? -1)
        }
        return answers
    }

    /// Accuracy per task over `count` generated items each (batches of four).
    func quality(_ tier: TierSpec, itemsPerTask count: Int, progress: () -> Void) async throws -> [Double] {
        var out: [Double] = []
        for task in ChoiceTask.allCases {
            let items = task.items(count: count, seed: 7)
            var correct = 0
            for start in stride(from: 0, to: items.count, by: 4) {
                let slice = Array(items[start..<min(start + 4, items.count)])
                let answers = try await answer(slice.map { ($0, task) }, tier: tier)
                correct += zip(answers, slice).filter { $0 == $1.answer }.count
                progress()
            }
            out.append(Double(correct) / Double(items.count))
        }
        return out
    }

    /// Seconds for `b` requests submitted together (tasks round-robin, new items each repetition so
    /// only the few-shot prefix can come from the prefix cache, as on a live server): the fastest
    /// of `repetitions` after one warm-up.
    func latency(_ tier: TierSpec, batch b: Int, repetitions: Int) async throws -> Double {
        let tasks = ChoiceTask.allCases
        func batch(_ r: Int) -> [(ChoiceItem, ChoiceTask)] {
            (0..<b).map { i in (tasks[i % tasks.count].items(count: 1 + i / tasks.count, seed: 99 &+ UInt64(r) &* 1_009).last!, tasks[i % tasks.count]) }
        }
        _ = try await answer(batch(0), tier: tier)
        var best = Double.infinity
        for r in 1...repetitions {
            let work = batch(r)
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try await answer(work, tier: tier)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        return best
    }
}
