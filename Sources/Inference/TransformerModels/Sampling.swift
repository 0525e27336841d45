// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
public import Support
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How the next token is chosen from logits.
///
/// Temperature 0 means greedy (argmax, lowest id on ties). Otherwise the chain is llama.cpp's:
/// penalties, top-k, top-p, min-p, temperature, then a seeded draw.
public struct SamplingParameters: Sendable, Equatable, Codable {
    /// Softmax temperature; 0 = greedy.
    public var temperature: Float = 0.8
    /// Keep the `topK` most likely tokens (0 = off).
    public var topK: Int = 40
    /// Nucleus sampling: keep the smallest set with cumulative probability ≥ `topP` (1 = off).
    public var topP: Float = 0.95
    /// Drop tokens whose probability is below `minP` × the top probability (0 = off).
    public var minP: Float = 0.05
    /// Divide positive (multiply negative) logits of recent tokens by this (1 = off).
    public var repetitionPenalty: Float = 1
    /// Subtract `frequencyPenalty × count` from recent tokens' logits (OpenAI semantics).
    public var frequencyPenalty: Float = 0
    /// Subtract `presencePenalty` from every recent token's logit.
    public var presencePenalty: Float = 0
    /// How many recent tokens the penalties look at (-1 = the whole sequence).
    public var penaltyWindow: Int = 64
    /// Random seed; nil picks one from the system.
    public var seed: UInt64?

    /// Parameters; each one left out keeps llama.cpp's default.
    public init(temperature: Float = 0.8, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05, repetitionPenalty: Float = 1,
                frequencyPenalty: Float = 0, presencePenalty: Float = 0, penaltyWindow: Int = 64, seed: UInt64? = nil) {
        self.temperature = temperature; self.topK = topK; self.topP = topP; self.minP = minP
        self.repetitionPenalty = repetitionPenalty; self.frequencyPenalty = frequencyPenalty; self.presencePenalty = presencePenalty
        self.penaltyWindow = penaltyWindow; self.seed = seed
    }

    /// Greedy decoding.
    public static var greedy: SamplingParameters {
        SamplingParameters(temperature: 0)
    }
}

/// Picks tokens according to ``SamplingParameters``; owns its random state and scratch space.
public struct Sampler: Sendable {
    /// The parameters in use.
    public let parameters: SamplingParameters
    private var random: SeededRandom
    private var candidates: [(id: Int, logit: Float)] = []

    /// Creates a sampler.
    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        random = SeededRandom(seed: parameters.seed ?? UInt64.random(in: 0...UInt64.max))
    }

    /// Index of the largest value (lowest index on ties).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<logits.count where logits[i] > bestValue {
            bestValue = logits[i]
            best = i
        }
        return best
    }

    /// Chooses the next token given the logits and the tokens so far (prompt and generated).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, history: [Int]) -> Int {
        let p = parameters
        let penalize = p.repetitionPenalty != 1 || p.frequencyPenalty != 0 || p.presencePenalty != 0
        var counts: [Int: Int] = [:]
        if penalize {
            let window = p.penaltyWindow < 0 ? history.count : min(p.penaltyWindow, history.count)
            for id in history.suffix(window) { counts[id, default: 0] += 1 }
        }
        func penalized(_ id: Int, _ l: Float) -> Float {
            guard penalize, let c = counts[id] else { return l }
            var v = l
            if p.repetitionPenalty != 1 { v = v <= 0 ? v * p.repetitionPenalty : v / p.repetitionPenalty }
            return v - Float(c) * p.frequencyPenalty - p.presencePenalty
        }
        if p.temperature <= 0 {
            if !penalize { return Sampler.argmax(logits) }
            var best = 0
            var bestValue = -Float.infinity
            for i in 0..<logits.count {
                let v = penalized(i, logits[i])
                if v > bestValue { bestValue = v; best = i }
            }
            return best
        }
        // No filter: draw straight from softmax(logits / T) in one pass, no sorting.
        if p.topK <= 0 && p.topP >= 1 && p.minP <= 0 {
            var m = -Float.infinity
            for i in 0..<logits.count { m = max(m, penalized(i, logits[i])) }
            var total = 0.0
            for i in 0..<logits.count { total += Double(expf((penalized(i, logits[i]) - m) / p.temperature)) }
            let r = Double(random.next() >> 11) * 0x1p-53 * total
            var cum = 0.0
            for i in 0..<logits.count {
                cum += Double(expf((penalized(i, logits[i]) - m) / p.temperature))
                if r < cum { return i }
            }
            return Sampler.argmax(logits)
        }
        candidates.removeAll(keepingCapacity: true)
        if p.topK > 0 && p.topK < logits.count / 4 {
            // Keep only the k best with a bounded selection instead of sorting the vocabulary.
            var threshold = -Float.infinity
            for i in 0..<logits.count {
                let l = penalized(i, logits[i])
                guard l > threshold || candidates.count < p.topK else { continue }
                candidates.append((i, l))
                if candidates.count >= 2 * p.topK {
                    candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
                    candidates.removeLast(candidates.count - p.topK)
                    threshold = candidates.last!.logit
                }
            }
        } else {
            for i in 0..<logits.count { candidates.append((i, penalized(i, logits[i]))) }
        }
        candidates.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
        if p.topK > 0 && p.topK < candidates.count { candidates.removeLast(candidates.count - p.topK) }
        // Probabilities at temperature 1 for top-p / min-p (llama.cpp order), then temperature.
        var probs = softmax(candidates.map(\.logit))
        if p.topP < 1 {
            var cum: Float = 0
            var keep = candidates.count
            for (i, pr) in probs.enumerated() {
                cum += pr
                if cum >= p.topP { keep = i + 1; break }
            }
            candidates.removeLast(candidates.count - keep)
            probs.removeLast(probs.count - keep)
        }
        if p.minP > 0, let top = probs.first {
            let keep = max(1, probs.prefix { $0 >= p.minP * top }.count)
            candidates.removeLast(candidates.count - keep)
        }
        probs = softmax(candidates.map { $0.logit / p.temperature })
        let r = Float(Double(random.next() >> 11) * 0x1p-53)
        var cum: Float = 0
        for (i, pr) in probs.enumerated() {
            cum += pr
            if r < cum { return candidates[i].id }
        }
        return candidates.last!.id
    }

    private func softmax(_ x: [Float]) -> [Float] {
        guard let m = x.max() else { return [] }
        let e = x.map { expf($0 - m) }
        let s = e.reduce(0, +)
        return e.map { $0 / s }
    }
}
