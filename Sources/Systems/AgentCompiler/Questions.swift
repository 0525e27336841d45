// SPDX-License-Identifier: Apache-2.0

import Support
public import Foundation
import Synchronization

/// One benchmark question with its exact answer and the gold script of every method.
public struct BenchmarkQuestion: Sendable, Codable, Equatable {
    /// `hotpotqa`, `movie` or `parallelqa`.
    public var set: String
    /// Stable id within the set.
    public var id: String
    /// The question.
    public var question: String
    /// The exact answer (an entity title or an integer as text).
    public var answer: String
    /// The FOLDOC titles the question is built from.
    public var entities: [String]
    /// What a perfect model writes at each step.
    public var gold: GoldScript
}

/// The three question shapes of the paper, generated deterministically from FOLDOC facts:
///
/// - `hotpotqa` (HotpotQA comparison, 2 parallel lookups): "Which appeared first, A or B?" where
///   each entity's entry (first `sentences` sentences) gives exactly one year.
/// - `movie` (BIG-bench movie recommendation, 8 parallel lookups): four references sharing a FOLDOC
///   category and four options of which exactly one has that category.
/// - `parallelqa` (lookup -> math chains): "If A had appeared k years later and B m years
///   earlier, how many years apart would they be?".
public enum QuestionSets {
    /// The sets, in report order.
    public static let names = ["hotpotqa", "movie", "parallelqa"]

    /// A FOLDOC fact usable in questions.
    struct Fact: Sendable {
        var title: String
        var category: String
        var year: Int?
    }

    /// Entities whose search result (with `sentences` sentences) shows one category and at most
    /// one year; sorted by title.
    static func facts(_ dictionary: FoldocDictionary, sentences: Int) -> [Fact] {
        let key = "\(ObjectIdentifier(dictionary).hashValue)/\(sentences)"
        if let cached = factCache.withLock({ $0[key] }) { return cached }
        let out = scanFacts(dictionary, sentences: sentences)
        factCache.withLock { $0[key] = out }
        return out
    }

    static let factCache = Mutex<[String: [Fact]]>([:])

    static func scanFacts(_ dictionary: FoldocDictionary, sentences: Int) -> [Fact] {
        let search = FoldocSearchTool(dictionary: dictionary, sentences: sentences)
        var out: [Fact] = []
        var seen: Set<String> = []
        for h in dictionary.headwords {
            let key = h.lowercased()
            guard !seen.contains(key), !FewShotExamples.reservedEntities.contains(key),
                  h.count >= 2, h.count <= 16, h.first!.isLetter,
                  h.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " " || $0 == "-") }),
                  h.split(separator: " ").count <= 2,
                  let e = dictionary.entry(h), e.redirect == nil, e.senses.count == 1,
                  let title = e.titles.first(where: { $0.lowercased() == key }), title == h || title.lowercased() == key,
                  e.senses[0].categories.count == 1 else { continue }
            seen.insert(key)
            let text = search.render(e, title: title)
            guard !text.hasPrefix("Could not find"), !text.contains("[Other senses") else { continue }
            // Years in the entry text only (not in a title such as "COBOL 2002").
            let body = text.firstIndex(of: ":").map { String(text[text.index(after: $0)...]) } ?? text
            let years = Set(Self.years(in: body))
            out.append(Fact(title: title, category: e.senses[0].categories[0], year: years.count == 1 ? years.first : nil))
        }
        return out
    }

    /// Four-digit years 1940...2023 appearing as whole words.
    static func years(in text: String) -> [Int] {
        var out: [Int] = []
        let c = Array(text.utf8)
        var i = 0
        while i + 4 <= c.count {
            let isDigit = { (b: UInt8) in b >= 48 && b <= 57 }
            if (i == 0 || !isDigit(c[i - 1])) && c[i..<(i + 4)].allSatisfy(isDigit) && (i + 4 == c.count || !isDigit(c[i + 4])) {
                let y = Int(String(decoding: c[i..<(i + 4)], as: UTF8.self))!
                if (1940...2023).contains(y) { out.append(y) }
                i += 4
                continue
            }
            i += 1
        }
        return out
    }

    /// Generates `count` questions per set with `seed`; `sentences` must match the search tool's.
    public static func generate(_ dictionary: FoldocDictionary, count: Int, seed: UInt64 = 2024, sentences: Int = 2) -> [BenchmarkQuestion] {
        let facts = facts(dictionary, sentences: sentences)
        let dated = facts.filter { $0.year != nil }
        var rng = SeededRandom(seed: seed)
        var out: [BenchmarkQuestion] = []

        // HotpotQA comparison.
        var used: Set<String> = []
        var n = 0
        while n < count, dated.count >= 2 {
            let a = dated[rng.nextInt(below: dated.count)], b = dated[rng.nextInt(below: dated.count)]
            guard a.title != b.title, abs(a.year! - b.year!) >= 3, !used.contains(a.title), !used.contains(b.title) else { continue }
            used.formUnion([a.title, b.title])
            let first = a.year! < b.year! ? a : b
            let plan = "1. search(\"\(a.title)\")\n2. search(\"\(b.title)\")\nThought: I can answer the question now.\n3. join()\(StreamingPlanParser.endOfPlan)"
            let thought = "\(a.title) dates from \(a.year!) and \(b.title) from \(b.year!), so \(first.title) came first."
            out.append(BenchmarkQuestion(
                set: "hotpotqa", id: "hotpotqa-\(n)", question: "Which appeared first, \(a.title) or \(b.title)?", answer: first.title,
                entities: [a.title, b.title],
                gold: GoldScript(
                    plan: plan, joiner: "Thought: \(thought)\nAction: Finish(\(first.title))",
                    react: ["Thought: I need the year of \(a.title).\nAction: search[\(a.title)]",
                            "Thought: Now I need the year of \(b.title).\nAction: search[\(b.title)]",
                            "Thought: \(thought)\nAction: Finish[\(first.title)]"],
                    parallel: [calls(facts: [a, b]), "{\"answer\": \"\(first.title)\"}"])))
            n += 1
        }

        // Movie-recommendation shape: 4 references + 4 options.
        var byCategory: [String: [Fact]] = [:]
        for f in facts { byCategory[f.category, default: []].append(f) }
        let categories = byCategory.keys.filter { byCategory[$0]!.count >= 8 }.sorted()
        n = 0
        var attempts = 0
        while n < count, categories.count >= 2, attempts < 10_000 {
            attempts += 1
            let c = categories[rng.nextInt(below: categories.count)]
            var pool = byCategory[c]!
            rng.shuffle(&pool)
            let refs = Array(pool.prefix(4)), right = pool[4]
            var others = facts.filter { $0.category != c }
            var wrong: [Fact] = []
            var cats: Set<String> = []
            while wrong.count < 3, !others.isEmpty {
                let f = others.remove(at: rng.nextInt(below: others.count))
                if !cats.contains(f.category) { wrong.append(f); cats.insert(f.category) }
            }
            guard wrong.count == 3 else { continue }
            var options = wrong + [right]
            rng.shuffle(&options)
            let letters = ["A", "B", "C", "D"]
            let q = "Which is the same kind of thing as \(refs.map(\.title).dropLast().joined(separator: ", ")) and \(refs[3].title)? Options: "
                + options.enumerated().map { "(\(letters[$0.offset])) \($0.element.title)" }.joined(separator: " ")
            let all = refs + options
            var plan = ""
            for (i, f) in all.enumerated() { plan += "\(i + 1). search(\"\(f.title)\")\n" }
            plan += "Thought: I can answer the question now.\n\(all.count + 1). join()\(StreamingPlanParser.endOfPlan)"
            let thought = "The references are \(c) entries; \(right.title) is one too."
            var react = all.enumerated().map { i, f in "Thought: I need to look up \(f.title)\(i == 0 ? " first" : "").\nAction: search[\(f.title)]" }
            react.append("Thought: \(thought)\nAction: Finish[\(right.title)]")
            out.append(BenchmarkQuestion(
                set: "movie", id: "movie-\(n)", question: q, answer: right.title, entities: all.map(\.title),
                gold: GoldScript(plan: plan, joiner: "Thought: \(thought)\nAction: Finish(\(right.title))", react: react,
                                 parallel: [calls(facts: all), "{\"answer\": \"\(right.title)\"}"])))
            n += 1
        }

        // ParallelQA shape: two lookup -> math chains joined by a final math step.
        used = []
        n = 0
        while n < count, dated.count >= 2 {
            let a = dated[rng.nextInt(below: dated.count)], b = dated[rng.nextInt(below: dated.count)]
            guard a.title != b.title, !used.contains(a.title), !used.contains(b.title) else { continue }
            used.formUnion([a.title, b.title])
            let k = 1 + rng.nextInt(below: 9), m = 1 + rng.nextInt(below: 9)
            let ya = a.year! + k, yb = b.year! - m
            let answer = abs(ya - yb)
            let pa = "the year \(a.title) appeared plus \(k)", pb = "the year \(b.title) appeared minus \(m)"
            let plan = FewShotExamples.yearGapPlan(a.title, later: k, b.title, earlier: m)
            let expression = "abs((\(a.year!) + \(k)) - (\(b.year!) - \(m)))"
            out.append(BenchmarkQuestion(
                set: "parallelqa", id: "parallelqa-\(n)",
                question: "If \(a.title) had appeared \(k) years later and \(b.title) \(m) years earlier, how many years apart would they be?",
                answer: String(answer), entities: [a.title, b.title],
                gold: GoldScript(
                    plan: plan, joiner: "Thought: The two years are \(ya) and \(yb), \(answer) years apart.\nAction: Finish(\(answer))",
                    react: ["Thought: I need the year of \(a.title).\nAction: search[\(a.title)]",
                            "Thought: Now I need the year of \(b.title).\nAction: search[\(b.title)]",
                            "Thought: \(a.title) becomes \(ya) and \(b.title) \(yb); I compute the difference.\nAction: calc[\(expression)]",
                            "Thought: The answer is \(answer).\nAction: Finish[\(answer)]"],
                    parallel: [calls(facts: [a, b]), "[{\"name\": \"calc\", \"arguments\": {\"expression\": \"\(expression)\"}}]",
                               "{\"answer\": \"\(answer)\"}"],
                    math: [pa: "\(a.year!) + \(k)", pb: "\(b.year!) - \(m)"])))
            n += 1
        }
        return out
    }

    static func calls(facts: [Fact]) -> String {
        "[" + facts.map { "{\"name\": \"search\", \"arguments\": {\"entity\": \"\($0.title)\"}}" }.joined(separator: ", ") + "]"
    }

    /// Loads a question file (a JSON array of ``BenchmarkQuestion``).
    public static func load(path: String) throws -> [BenchmarkQuestion] {
        try JSONDecoder().decode([BenchmarkQuestion].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Encodes questions as pretty, stable JSON.
    public static func encode(_ questions: [BenchmarkQuestion]) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try e.encode(questions)
    }
}

/// The paper's scoring: normalised exact match, or within 10% when the label is a number.
public enum Scoring {
    /// Lower case, no punctuation, no articles, single spaces.
    public static func normalize(_ s: String) -> String {
        let lowered = s.lowercased().unicodeScalars.map { CharacterSet.punctuationCharacters.contains($0) || CharacterSet.symbols.contains($0) ? " " : Character($0) }
        let words = String(lowered).split(separator: " ").filter { !["a", "an", "the"].contains($0) }
        return words.joined(separator: " ")
    }

    /// Whether `answer` is right for `label`. Numeric labels accept answers within 10% (the paper
    /// uses the open interval (0.9 label, 1.1 label), which rejects everything for labels <= 0; we
    /// use |answer - label| <= 0.1 |label| instead).
    public static func isCorrect(_ answer: String, label: String) -> Bool {
        if let l = Double(label.trimmingCharacters(in: .whitespaces)) {
            let cleaned = answer.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: ",", with: "")
            let token = cleaned.split(whereSeparator: { !($0.isNumber || $0 == "." || $0 == "-") }).first.map(String.init) ?? cleaned
            guard let a = Double(token) else { return false }
            return abs(a - l) <= 0.1 * abs(l)
        }
        return normalize(answer) == normalize(label)
    }
}

