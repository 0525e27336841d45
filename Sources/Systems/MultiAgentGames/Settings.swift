// SPDX-License-Identifier: Apache-2.0

public import Support
public import Foundation

/// One Chameleon game: topic, secret word, who is the chameleon, and the recorded clue of every
/// player (replayed for defenders before the tested player first acts: the fixed prefix).
public struct ChameleonSetting: Codable, Sendable, Equatable {
    public var topic: String
    public var code: String
    public var chameleon: Int
    public var clues: [String]
}

/// One Undercover game: the two words, the undercover player, two recorded clues per player.
public struct UndercoverSetting: Codable, Sendable, Equatable {
    public var undercoverWord: String
    public var otherWord: String
    public var undercover: Int
    public var clues: [[String]]
}

/// One airport-fee game: the usage table, the tested player and every player's round-1 proposal.
public struct CostSharingSetting: Codable, Sendable, Equatable {
    public var testPlayer: Int
    public var fee = 1_000_000
    public var flights: [Int]
    public var passengers: [Int]
    public var hours: [Double]
    public var sizes: [String]
    public var firstProposals: [[Int]]

    /// Usage-proportional shares (flights x hours), in percent.
    public var usageShares: [Double] {
        let w = zip(flights, hours).map { Double($0) * $1 }
        let s = w.reduce(0, +)
        return w.map { $0 / s * 100 }
    }

    /// The usage table as the moderator announces it.
    public var table: String {
        var s = "Fixed Airport Fee: $\(Self.grouped(fee))\n\nAirline Usage Frequency Data:\n"
        for (i, a) in ["A", "B", "C"].enumerated() {
            s += "\nAirline \(a):\nNumber of Flights: \(flights[i])/month\nNumber of Passengers: \(passengers[i])/month\n"
            s += "Average Flight Duration: \(hours[i]) hours\nFlight Size: \(sizes[i])\n"
        }
        return s
    }

    /// 1000000 -> "1,000,000".
    static func grouped(_ n: Int) -> String {
        var digits = Array(String(n)), out = ""
        while digits.count > 3 { out = "," + String(digits.suffix(3)) + out; digits.removeLast(3) }
        return String(digits) + out
    }
}

/// One iterated 3-player Prisoner's Dilemma: payoffs, the tested player, the defenders' strategies.
public struct PrisonerSetting: Codable, Sendable, Equatable {
    public var testPlayer: Int
    public var cooperate: Double
    public var defect: Double
    public var oneDefect: Double
    public var twoDefect: Double
    public var rounds = 5
    /// Per player ("" for the tested player): tit-for-tat, always-defect, always-cooperate, grim, alternate.
    public var strategies: [String]
}

/// One Public Good game: multiplier, tested player, the defenders' contribution schedules.
public struct PublicGoodSetting: Codable, Sendable, Equatable {
    public var testPlayer: Int
    public var rounds = 5
    public var multiplier: Double
    public var startPoints = 100
    /// Per player ("" for the tested player): "fixed" (follows `schedules`) or "match" (the previous
    /// round's mean contribution, `schedules[p][0]` in round 1).
    public var strategies: [String]
    public var schedules: [[Int]]
}

/// All settings of all scenarios.
public struct SettingsBundle: JSONFile, Sendable, Equatable {
    public var seed: UInt64
    public var chameleon: [ChameleonSetting]
    public var undercover: [UndercoverSetting]
    public var costSharing: [CostSharingSetting]
    public var prisoner: [PrisonerSetting]
    public var publicGood: [PublicGoodSetting]
}

/// Generates the seeded settings offline. Setting 0 of each scenario is the one released with the
/// paper's code (for parity); settings 1... are drawn from the word tables and ranges below.
public enum SettingsGenerator {
    public static let defaultSeed: UInt64 = 2311_08562

    public static func generate(count: Int = 20, seed: UInt64 = defaultSeed) -> SettingsBundle {
        var rng = SeededRandom(seed: seed)
        var chameleon: [ChameleonSetting] = [
            ChameleonSetting(topic: "Fruits", code: "Grape", chameleon: 2,
                             clues: ["It's often used to make wine.", "It's small and round.", "It's red in color."]),
        ]
        var undercover: [UndercoverSetting] = [
            UndercoverSetting(undercoverWord: "viewer", otherWord: "listener", undercover: 0,
                              clues: [["My clue is: television.", "My second clue is: observer."],
                                      ["My clue is: radio.", "My second clue is: attentive."],
                                      ["My clue is: audience.", "My second clue is: silent."]]),
        ]
        var cost: [CostSharingSetting] = [
            CostSharingSetting(testPlayer: 2, flights: [90, 50, 50], passengers: [7000, 7500, 7500], hours: [1.75, 1.5, 1.5],
                               sizes: ["Primarily small and medium aircraft", "Primarily small aircraft", "Primarily small aircraft"],
                               firstProposals: [[40, 30, 30], [50, 25, 25], [50, 25, 25]]),
        ]
        var prisoner: [PrisonerSetting] = [
            PrisonerSetting(testPlayer: 1, cooperate: 2, defect: 1, oneDefect: 4, twoDefect: 2, strategies: ["tit-for-tat", "", "always-defect"]),
        ]
        var publicGood: [PublicGoodSetting] = [
            PublicGoodSetting(testPlayer: 0, multiplier: 3.5, strategies: ["", "fixed", "match"],
                              schedules: [[], [20, 20, 20, 20, 20], [30, 30, 30, 30, 30]]),
        ]
        let sizes = ["Primarily small aircraft", "Primarily small and medium aircraft", "Primarily medium aircraft",
                     "Primarily large aircraft", "Mixed medium and large aircraft"]
        let pdStrategies = ["tit-for-tat", "always-defect", "always-cooperate", "grim", "alternate"]
        let schedules: [[Int]] = [[20, 20, 20, 20, 20], [40, 30, 20, 10, 0], [0, 0, 0, 0, 0], [10, 20, 30, 20, 10], [50, 20, 10, 10, 10],
                                  [25, 25, 0, 25, 25], [5, 5, 5, 5, 5]]
        for _ in 1..<max(count, 1) {
            // Chameleon
            let t = WordFeatures.topics[Int.random(in: 0..<WordFeatures.topics.count, using: &rng)]
            let code = t.words[Int.random(in: 0..<t.words.count, using: &rng)]
            let ch = Int.random(in: 0..<3, using: &rng)
            var c = ChameleonSetting(topic: t.topic, code: code, chameleon: ch, clues: ["", "", ""])
            c.clues = ScriptedDefender.recordChameleonClues(c)
            chameleon.append(c)
            // Undercover
            var pair = WordFeatures.undercoverPairs[Int.random(in: 0..<WordFeatures.undercoverPairs.count, using: &rng)]
            if Bool.random(using: &rng) { pair = (pair.1, pair.0) }
            var u = UndercoverSetting(undercoverWord: pair.0, otherWord: pair.1, undercover: Int.random(in: 0..<3, using: &rng), clues: [])
            u.clues = ScriptedDefender.recordUndercoverClues(u)
            undercover.append(u)
            // Cost sharing
            var s = CostSharingSetting(
                testPlayer: Int.random(in: 0..<3, using: &rng),
                flights: (0..<3).map { _ in 10 * Int.random(in: 3...10, using: &rng) },
                passengers: (0..<3).map { _ in 500 * Int.random(in: 6...18, using: &rng) },
                hours: (0..<3).map { _ in 0.25 * Double(Int.random(in: 4...12, using: &rng)) },
                sizes: (0..<3).map { _ in sizes[Int.random(in: 0..<sizes.count, using: &rng)] },
                firstProposals: [])
            let usage = ScriptedDefender.roundToFive(s.usageShares)
            let even = [35, 35, 30]
            // Each airline's opening proposal leans its own share down by 5-10 points (self-interest).
            s.firstProposals = (0..<3).map { p in
                if Bool.random(using: &rng) { return usage }
                var q = usage
                let d = min(q[p], 5 * Int.random(in: 1...2, using: &rng))
                q[p] -= d
                q[(p + 1) % 3] += d
                return q.allSatisfy { $0 >= 0 } ? q : even
            }
            cost.append(s)
            // Prisoner's Dilemma
            let coop = Double(Int.random(in: 2...3, using: &rng))
            let pd = PrisonerSetting(testPlayer: Int.random(in: 0..<3, using: &rng), cooperate: coop, defect: 1,
                                     oneDefect: coop + Double(Int.random(in: 1...3, using: &rng)),
                                     twoDefect: Double(Int.random(in: 2...Int(coop), using: &rng)), strategies: [])
            var pdp = pd
            pdp.strategies = (0..<3).map { $0 == pd.testPlayer ? "" : pdStrategies[Int.random(in: 0..<pdStrategies.count, using: &rng)] }
            prisoner.append(pdp)
            // Public Good
            let tp = Int.random(in: 0..<3, using: &rng)
            let multipliers = [1.5, 2.0, 2.5, 3.0, 3.5]
            publicGood.append(PublicGoodSetting(
                testPlayer: tp, multiplier: multipliers[Int.random(in: 0..<multipliers.count, using: &rng)],
                strategies: (0..<3).map { $0 == tp ? "" : (Int.random(in: 0..<3, using: &rng) == 0 ? "match" : "fixed") },
                schedules: (0..<3).map { $0 == tp ? [] : schedules[Int.random(in: 0..<schedules.count, using: &rng)] }))
        }
        return SettingsBundle(seed: seed, chameleon: chameleon, undercover: undercover, costSharing: cost, prisoner: prisoner,
                              publicGood: publicGood)
    }
}
