// SPDX-License-Identifier: Apache-2.0

import Foundation
import TestSupport
import Testing

@Suite("tern bench split-ensemble", .serialized)
struct SplitEnsembleCommandTests {
    @Test("bench split-ensemble --quick --json: end to end on Fashion-MNIST, the shared report shape, FLOPs at budget")
    func benchQuick() throws {
        let r = try Tern.run(["bench", "split-ensemble", "--quick", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try Tern.json(r.stdout)
        #expect(obj["system"] as? String == "split-ensemble")
        #expect(!(try #require(obj["machine"] as? String)).isEmpty)
        #expect((obj["settings"] as? [String: Any])?["quick"] as? Bool == true)
        let claims = try #require(obj["claims"] as? [[String: Any]])
        let ids = Set(claims.compactMap { $0["id"] as? String })
        #expect(ids.isSuperset(of: ["accuracy_gain_vs_single_pp", "mean_auroc_gain_vs_single_msp_pp", "flops_ratio_vs_single"]))
        let flops = try #require(claims.first { $0["id"] as? String == "flops_ratio_vs_single" }?["ours"] as? Double)
        #expect(flops <= 1 && flops > 0.9)
        let results = try #require(obj["results"] as? [String: Any])
        let methods = try #require(results["methods"] as? [[String: Any]])
        let names = Set(methods.compactMap { $0["method"] as? String })
        #expect(names.isSuperset(of: ["single-msp", "single-energy", "deep-ensemble-2-msp", "mc-dropout-msp",
                                      "split-ensemble-combined", "split-ensemble-msp", "split-ensemble-energy"]))
        for m in methods {
            let acc = try #require((m["accuracy"] as? [String: Double])?["mean"])
            #expect(acc > 0.3 && acc <= 1, "\(m["method"] ?? "?") accuracy \(acc)")   // 8 classes: chance is 0.125
            let sets = try #require(m["ood"] as? [[String: Any]])
            #expect(sets.count == 6)
            for s in sets {
                let auroc = try #require((s["auroc"] as? [String: Double])?["mean"])
                #expect(auroc >= 0 && auroc <= 1)
            }
        }
    }

    @Test("train split-ensemble --json: a pruned tree at the single model's FLOP budget, evaluated on the OOD sets")
    func train() throws {
        let r = try Tern.run(["train", "split-ensemble", "--limit", "300", "--epochs", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try Tern.json(r.stdout)
        let flops = try #require(obj["flops"] as? Int), budget = try #require(obj["budget_flops"] as? Int)
        #expect(flops <= budget && flops > budget * 9 / 10)
        let methods = try #require(obj["methods"] as? [[String: Any]])
        #expect(methods.compactMap { $0["method"] as? String } == ["single-msp", "single-energy", "split-ensemble-combined",
                                                                    "split-ensemble-msp", "split-ensemble-energy"])
    }
}
