// SPDX-License-Identifier: Apache-2.0

public import Support

/// One multiple-choice item: the model scores each option by its log-likelihood after the prompt.
public struct ChoiceItem: Sendable, Equatable {
    /// The question text, ending where the answer starts.
    public let prompt: String
    /// Candidate answers, each starting with a space (they are tokenized separately).
    public let options: [String]
    /// Index of the correct option.
    public let answer: Int
}

/// The local evaluation tasks: generated deterministically in code (no downloads), scored by
/// option log-likelihood like the paper's classification-style tasks.
public enum ChoiceTask: Int, CaseIterable, Sendable, Codable {
    /// "Which number is larger: 47 or 82?" (2 options).
    case compare
    /// Sentiment of a templated review (positive / negative).
    case sentiment
    /// Capital city of a country from a built-in list of real facts (4 options).
    case capital
    /// Repeat a given word among 4 candidate words.
    case copy

    /// Short name used in files and tables.
    public var name: String { String(describing: self) }

    /// `count` items of this task generated from `seed` (same seed, same items).
    public func items(count: Int, seed: UInt64) -> [ChoiceItem] {
        var rng = SeededRandom.bestEffort(seed: seed &* 31 &+ UInt64(rawValue) &* 1_000_003)
        return (0..<count).map { _ in item(&rng) }
    }

    /// A few-shot prefix: `shots` solved items from a different seed than any evaluation set.
    public func fewShotPrefix(shots: Int) -> String {
        items(count: shots, seed: 0xF3_5A07).map { $0.prompt + $0.options[$0.answer] + "\n\n" }.joined()
    }

    private func item(_ rng: inout SeededRandom) -> ChoiceItem {
        switch self {
        case .compare:
            let a = 10 + rng.nextInt(below: 90)
            var b = 10 + rng.nextInt(below: 90)
            while b == a { b = 10 + rng.nextInt(below: 90) }
            return ChoiceItem(prompt: "Question: Which number is larger, \(a) or \(b)?\nAnswer:",
                              options: [" \(a)", " \(b)"], answer: a > b ? 0 : 1)
        case .sentiment:
            let positive = rng.nextInt(below: 2) == 0
            let subject = Self.subjects[rng.nextInt(below: Self.subjects.count)]
            let words = positive ? Self.positiveWords : Self.negativeWords
            let w1 = words[rng.nextInt(below: words.count)]
            var w2 = words[rng.nextInt(below: words.count)]
            while w2 == w1 { w2 = words[rng.nextInt(below: words.count)] }
            return ChoiceItem(prompt: "Review: The \(subject) was \(w1) and \(w2).\nIs this review positive or negative?\nAnswer:",
                              options: [" positive", " negative"], answer: positive ? 0 : 1)
        case .capital:
            let i = rng.nextInt(below: Self.capitals.count)
            var options = [i]
            while options.count < 4 {
                let j = rng.nextInt(below: Self.capitals.count)
                if !options.contains(j) { options.append(j) }
            }
            options.shuffle(using: &rng)
            return ChoiceItem(prompt: "Question: What is the capital of \(Self.capitals[i].0)?\nAnswer:",
                              options: options.map { " " + Self.capitals[$0].1 }, answer: options.firstIndex(of: i)!)
        case .copy:
            var options: [Int] = []
            while options.count < 4 {
                let j = rng.nextInt(below: Self.nouns.count)
                if !options.contains(j) { options.append(j) }
            }
            let target = options[rng.nextInt(below: 4)]
            return ChoiceItem(prompt: "Repeat the word exactly.\nWord: \(Self.nouns[target])\nRepeated:",
                              options: options.map { " " + Self.nouns[$0] }, answer: options.firstIndex(of: target)!)
        }
    }

    static let subjects = ["movie", "meal", "hotel", "concert", "book", "service", "game", "trip", "class", "phone"]
    static let positiveWords = ["wonderful", "excellent", "delightful", "great", "fantastic", "pleasant", "superb", "enjoyable"]
    static let negativeWords = ["terrible", "awful", "boring", "disappointing", "horrible", "dreadful", "poor", "unpleasant"]
    static let capitals = Gazetteer.capitals
    static let nouns = ["garden", "window", "pencil", "river", "basket", "candle", "mirror", "ladder", "violin", "rocket",
                        "blanket", "tunnel", "carpet", "helmet", "lantern", "anchor", "button", "feather", "harbor", "jacket"]
}
