// SPDX-License-Identifier: Apache-2.0

import Foundation
import TestSupport
import Testing

@Suite("tern bench magic and tern arena, end to end", .serialized)
struct BenchMagicTests {
    let model = Fixtures.requireDefaultModel()

    @Test("bench magic --quick --json: one setting of one scenario per game, vanilla vs PGM SmolLM2 vs random, the shared report shape")
    func quickReport() throws {
        let (o, settings, claims) = try Tern.benchReport("magic", ["--model", model, "--threads", "2"])
        #expect(settings["settings_per_scenario"] as? Int == 1)
        let ids = claims.compactMap { $0["id"] as? String }
        #expect(ids.contains("pgm_gain_mean_score") && ids.contains("vanilla_vs_random_floor"))
        #expect(claims.first { $0["id"] as? String == "pgm_gain_mean_score" }?["paper"] as? Double == 1.37)
        let agents = try #require((o["results"] as? [String: Any])?["agents"] as? [String: [String: Any]])
        #expect(Set(agents.keys) == ["vanilla", "pgm", "random"])
        for (name, a) in agents {
            #expect(a["games"] as? Int == 5, "\(name)")
            let m = try #require(a["corrected"] as? [String: Any])
            // Every game finished, so the win rate and the game-only metrics exist and are fractions.
            for k in ["win_rate", "deception", "cooperation", "rationality"] {
                let v = try #require(m[k] as? Double, "\(name) \(k)")
                #expect(v >= 0 && v <= 1)
            }
        }
        #expect((agents["vanilla"]?["llm_calls"] as? Int ?? 0) >= 10)
        #expect((agents["pgm"]?["llm_calls"] as? Int ?? 0) > (agents["vanilla"]?["llm_calls"] as? Int ?? 0))
        #expect(agents["random"]?["llm_calls"] as? Int == 0)
    }

    @Test("arena run writes JSONL records; arena report prints the leaderboard and writes JSON")
    func arenaRunReport() throws {
        let dir = try temporaryDirectory()
        let run = try Tern.run(["arena", "run", "--agent", "random", "--games", "all", "--settings", "2", "--out", dir])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = try String(contentsOfFile: dir + "/random-random.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 14)
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["scenario"] as? String == "chameleon_as_chameleon")
        #expect((first["messages"] as? [Any])?.isEmpty == false)
        let report = try Tern.run(["arena", "report", "--dir", dir])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("random (random)") && report.stdout.contains("judge"))
        let board = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/leaderboard.json"))) as? [String: Any])
        let rows = try #require(board["leaderboard"] as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["games"] as? Int == 14)

        // A second run overwrites the file (as its help says) and takes the quirk flags.
        let again = try Tern.run(["arena", "run", "--agent", "random", "--games", "all", "--settings", "2", "--out", dir, "--corrected-quirks"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try String(contentsOfFile: dir + "/random-random.jsonl", encoding: .utf8).split(separator: "\n").count == 14)
        // Two agents with equal scores: the leaderboard is ordered by name, whatever the file order.
        let text = try String(contentsOfFile: dir + "/random-random.jsonl", encoding: .utf8)
        try text.replacingOccurrences(of: "\"agent\":\"random\"", with: "\"agent\":\"arandom\"").write(toFile: dir + "/z.jsonl", atomically: true, encoding: .utf8)
        #expect(try Tern.run(["arena", "report", "--dir", dir]).status == 0)
        let tied = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/leaderboard.json"))) as? [String: Any])
        #expect((tied["leaderboard"] as? [[String: Any]])?.compactMap { $0["model"] as? String } == ["random (arandom)", "random (random)"])
    }

    @Test("bench magic takes constrained=false and the quirk setting and reports them")
    func benchFlags() throws {
        let r = try Tern.run(["bench", "magic", "--set", "agents=random", "--set", "settings=1", "--set", "games=prisoner", "--set", "constrained=false",
                              "--set", "quirks=released", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let settings = try #require(try Tern.json(r.stdout)["settings"] as? [String: Any])
        #expect(settings["constrained"] as? Bool == false)
        let quirks = try #require(settings["game_quirks"] as? [String: Bool])
        #expect(quirks == ["released_vote_parser": true, "released_contribution": true, "released_decision_parser": true, "released_probe_template": true])
        let bad = try Tern.run(["bench", "magic", "--set", "agents=random", "--set", "quirks=both"])
        #expect(bad.status != 0 && bad.stderr.contains("quirks: default, released or corrected"))
    }
}
