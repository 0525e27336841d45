// SPDX-License-Identifier: Apache-2.0

import Foundation

/// The games' text parsers, each as the released MAgIC code behaves, with the corrected variant beside
/// the quirky one where they differ (selected by `released`).
public enum GameParsers {
    /// A Chameleon/Undercover vote.
    ///
    /// Released: the lowest-numbered player whose name ("player k", "playerk" or "player_k") occurs
    /// anywhere in the lower-cased text, so "I vote for Player 3, not Player 1" counts for Player 1,
    /// and self-votes stand. Corrected: the name that occurs first in reading order, ignoring `voter`.
    public static func vote(_ text: String, voter: Int? = nil, released: Bool = true) -> Int? {
        let lower = text.lowercased()
        func candidates(_ i: Int) -> [String] { ["player \(i + 1)", "player\(i + 1)", "player_\(i + 1)"] }
        if released {
            for i in 0..<Players.count where candidates(i).contains(where: { lower.contains($0) }) { return i }
            return nil
        }
        var best: (pos: String.Index, player: Int)?
        for i in 0..<Players.count where i != voter {
            for c in candidates(i) {
                guard let r = lower.range(of: c) else { continue }
                // "player 1" must not match inside "player 10".
                if r.upperBound < lower.endIndex, lower[r.upperBound].isNumber { continue }
                if best == nil || r.lowerBound < best!.pos { best = (r.lowerBound, i) }
            }
        }
        return best?.player
    }

    /// The chameleon's guess: the first double-quoted text, else the last k words (k = words in the
    /// code), compared case- and space-insensitively (periods dropped from the unquoted form).
    public static func isTrueCode(_ text: String, code: String) -> Bool {
        let norm = { (s: String) in s.lowercased().replacingOccurrences(of: " ", with: "") }
        if let m = text.firstMatch(of: /"(.+?)"/) {
            return norm(String(m.1)) == norm(code)
        }
        let words = text.split(whereSeparator: \.isWhitespace)
        let k = code.split(separator: " ").count
        guard words.count >= k else { return false }
        let guessed = words.suffix(k).joined().lowercased().replacingOccurrences(of: ".", with: "")
        return guessed == norm(code).replacingOccurrences(of: ".", with: "")
    }

    /// The identity probe: `I am Player k` and `my role is <role>` (articles removed), both right.
    public static func identityCorrect(_ text: String, player: Int, role: String) -> Bool {
        var ok = 0
        if let m = text.firstMatch(of: /I am (Player \d+)/), String(m.1) == Players.name(player) { ok += 1 }
        if let m = text.firstMatch(of: /my role is ([ \w|-]+)/) {
            let parsed = String(m.1).replacing(/(?i)\b(?:the|a|an)\b/, with: "")
                .trimmingCharacters(in: .whitespaces).lowercased()
            if parsed == role { ok += 1 }
        }
        return ok == 2
    }

    /// A PGM analysis (probe answer or the agent's own analysis) as a factor table.
    ///
    /// `factor[perspective][player]` is +1 (more suspicious), -1 (less suspicious) or 0 (no change).
    /// Lines starting `As Player k` or `I think now Player k` switch the perspective (initially the
    /// speaker); lines starting `Player j` set the entry. A line `Now I guess the secret word is "w"`
    /// yields the guess. Lines are not trimmed (as released).
    public static func pgmFactors(_ text: String, speaker: Int) -> (factor: [[Double]], guess: String?) {
        var factor = [[Double]](repeating: [Double](repeating: 0, count: Players.count), count: Players.count)
        var perspective = speaker
        var guess: String?
        func playerIn(_ line: Substring) -> Int? {
            guard let m = line.firstMatch(of: /Player (\d+)/), let k = Int(m.1), k >= 1, k <= Players.count else { return nil }
            return k - 1
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("Now I guess the secret word is "), let m = line.firstMatch(of: /"([^"]*)"/) {
                guess = String(m.1)
            }
            if line.hasPrefix("As Player") || line.hasPrefix("I think now Player") {
                if let p = playerIn(line) { perspective = p }
            }
            if line.hasPrefix("Player"), let target = playerIn(line) {
                var value = 0.0
                // Released order: the last phrase found wins.
                for (phrase, v) in [("no change", 0.0), ("more suspicious", 1.0), ("less suspicious", -1.0)] where line.contains(phrase) {
                    value = v
                }
                factor[perspective][target] = value
            }
        }
        return (factor, guess)
    }

    /// A cost-sharing proposal: per airline A, B, C the text matched by `Airline (\S+): (\d.+)%` on
    /// each line (greedy, as released), or nil where no line matched.
    public static func proposal(_ text: String) -> [String?] {
        var out: [String?] = [nil, nil, nil]
        for line in text.split(separator: "\n") {
            guard let m = line.firstMatch(of: /Airline (\S+): (\d.+)%/) else { continue }
            switch m.1 {
            case "A": out[0] = String(m.2)
            case "B": out[1] = String(m.2)
            case "C": out[2] = String(m.2)
            default: break
            }
        }
        return out
    }

    /// A proposal's percentages as integers where they parse.
    public static func proposalNumbers(_ p: [String?]) -> [Int]? {
        let n = p.compactMap { $0.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }.map { Int($0.rounded()) } }
        return n.count == 3 ? n : nil
    }

    /// A cost-sharing vote `I vote for Player k`. Released falls back to asking GPT-3.5; we fall back
    /// to the Chameleon vote parser (a documented deviation).
    public static func proposalVote(_ text: String) -> Int? {
        if let m = text.firstMatch(of: /I vote for Player (\d+)/), let k = Int(m.1), k >= 1, k <= Players.count { return k - 1 }
        return vote(text)
    }

    /// A Prisoner's Dilemma decision: true = cooperate.
    ///
    /// Released: anything whose lower-cased text contains "cooperate" cooperates (so "I will not
    /// cooperate" and "Defect; I would cooperate if they did" cooperate). Corrected: the first
    /// cooperate/defect word (any form: "cooperating", "co-operate", "defects") decides, flipped when
    /// a negation ("not", "never", "no", "won't", "refuse", ...) stands among the three words before
    /// it in the same clause; a text with neither word defects (as released).
    public static func cooperates(_ text: String, released: Bool = true) -> Bool {
        let lower = text.lowercased()
        if released { return lower.replacing(/\.<eos>$|\.$/, with: "").contains("cooperate") }
        guard let m = lower.firstMatch(of: /\b(co-?operat|defect)[a-z]*/) else { return false }
        let cooperative = m.1.hasPrefix("co")
        // The words before the decision word, back to the last clause break.
        var before = lower[..<m.range.lowerBound]
        if let cut = before.lastIndex(where: { ".,;:!?\n()".contains($0) }) { before = before[before.index(after: cut)...] }
        let words = before.split { !$0.isLetter && $0 != "'" && $0 != "\u{2019}" }.suffix(3).map { $0.replacingOccurrences(of: "\u{2019}", with: "'") }
        let negated = words.contains { ["not", "never", "no", "cannot", "refuse", "refuses", "won't", "wouldn't"].contains($0) || $0.hasSuffix("n't") }
        return cooperative != negated
    }

    /// A Public Good contribution as the game scores it: the first whole number in the text.
    /// Released: unclamped, and a text without a number is an error (we score 0). Corrected: clamped
    /// to `0...remaining`.
    public static func contribution(_ text: String, remaining: Int, released: Bool = true) -> Int {
        guard let m = text.firstMatch(of: /\b(\d+)\b/), let v = Int(m.1.prefix(9)) else { return 0 }
        return released ? v : min(max(v, 0), max(remaining, 0))
    }

    /// The contribution as the rationality metric reads it: `contribute (\d+)`, else 0.
    public static func metricContribution(_ text: String) -> Int {
        guard let m = text.firstMatch(of: /contribute (\d+)/), let v = Int(m.1.prefix(9)) else { return 0 }
        return v
    }
}
