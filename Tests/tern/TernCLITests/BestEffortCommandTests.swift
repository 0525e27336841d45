// SPDX-License-Identifier: Apache-2.0

import Foundation
import TestSupport
import Testing

@Suite("tern best-effort train and tern bench best-effort, end to end", .serialized)
struct BestEffortCommandTests {
    let tiers = Fixtures.repositoryRoot + "/bench/best-effort/tiers.json"

    func temporaryDirectory() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tern-best-effort-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func policyJSON(_ path: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    @Test("best-effort train writes a policy file that bench best-effort --quick --json loads and evaluates: the shared report shape, learned ahead of random")
    func trainThenBench() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/policy.json"
        // 20 episodes with the default seed: the same router the quick bench would train itself.
        let t = try Tern.run(["best-effort", "train", "--tiers", tiers, "--episodes", "20", "--output", path])
        #expect(t.status == 0, "\(t.stderr)")
        let file = try policyJSON(path)
        let network = try #require(file["network"] as? [String: Any])
        let tierNames = try #require(file["tiers"] as? [String])
        let tasks = try #require(file["tasks"] as? [String])
        #expect(network["outputs"] as? Int == tierNames.count && network["inputs"] as? Int == tasks.count + tierNames.count + 1)
        #expect((file["training"] as? [String: String])?["episodes"] == "20")

        let (o, settings, claims) = try Tern.benchReport("best-effort", ["--set", "tiers=" + tiers, "--set", "policy=" + path])
        #expect(settings["policy_file"] as? String == path)
        for key in ["penalty", "rate_window_s", "queue_scale", "rate_scale_rps", "oracle_slacks", "greedy_slack", "mix_shift_weights",
                    "burst_seeds", "sweep_seeds", "availability_target", "dqn"] {
            #expect(settings[key] != nil, "settings.\(key)")
        }
        #expect(Set(claims.compactMap { $0["id"] as? String }) == ["max_rate_99pct_availability_vs_static", "windows_96pct_peak_vs_static",
                                                                    "windows_98pct_peak_vs_static"])
        for c in claims {
            #expect(c["description"] is String && c["unit"] as? String == "x" && c["paper"] is Double && c["baseline"] is String)
            #expect((c["ours"] as? Double)?.isFinite == true, "\(c)")
        }
        let results = try #require(o["results"] as? [String: Any])
        let bursty = try #require(results["bursty"] as? [String: [String: Double]])
        #expect(Set(bursty.keys) == ["learned", "static-best", "static-small", "random", "greedy-deadline", "oracle"])
        let learned = try #require(bursty["learned"]), random = try #require(bursty["random"])
        for k in ["availability", "relative_quality", "windows_96", "windows_98"] {
            let v = try #require(learned[k])
            #expect(v.isFinite && v >= 0 && v <= 1, "learned \(k) \(v)")
        }
        // Random spreads requests over every tier, slow ones included, on one shared machine; the
        // learned router must keep more requests on time and deliver more quality on the bursty traces.
        #expect(learned["availability"]! > random["availability"]! + 0.05, "learned \(learned) random \(random)")
        #expect(learned["relative_quality"]! > random["relative_quality"]!, "learned \(learned) random \(random)")
        let maxRate = try #require(results["max_rate_99"] as? [String: Double])
        #expect(maxRate["learned"]! >= maxRate["random"]!, "\(maxRate)")
    }

    @Test("best-effort train --allow-drop: the policy file records drops and its network has the extra drop action")
    func trainWithDrops() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/drop.json"
        let t = try Tern.run(["best-effort", "train", "--tiers", tiers, "--episodes", "2", "--allow-drop", "--output", path])
        #expect(t.status == 0, "\(t.stderr)")
        let file = try policyJSON(path)
        let tierNames = try #require(file["tiers"] as? [String])
        #expect((file["network"] as? [String: Any])?["outputs"] as? Int == tierNames.count + 1)
        #expect((file["settings"] as? [String: Any])?["allowDrop"] as? Bool == true)
    }
}
