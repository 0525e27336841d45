// SPDX-License-Identifier: Apache-2.0

import Foundation
import TestSupport
import Testing

@Suite("tern bench split-ensemble", .serialized)
struct SplitEnsembleCommandTests {
    @Test("bench split-ensemble --quick --json: end to end on Fashion-MNIST, the shared report shape, FLOPs at budget")
    func benchQuick() throws {
        let (obj, _, claims) = try Tern.benchReport("split-ensemble")
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
            #expect(acc > 0.5 && acc <= 1, "\(m["method"] ?? "?") accuracy \(acc)")   // 8 classes: chance is 0.125; quick runs reach 0.6-0.73
            let sets = try #require(m["ood"] as? [[String: Any]])
            #expect(sets.count == 6)
            #expect(sets.allSatisfy { (($0["auroc"] as? [String: Double])?["mean"]).map { $0.isFinite } == true })
        }
        // Something the quick run can fail: after three epochs on 1,200 images the single model's energy
        // score tells Fashion-MNIST from sklearn's digits (0.98-0.99 on seeds 1-3), and its softmax
        // confidence ranks the held-out Fashion-MNIST classes below the trained ones (0.63-0.70), both
        // above the 0.5 of a score that knows nothing. (Pure noise is no such test: a briefly trained
        // model's energy is often higher on noise than on real images, AUROC 0.2-0.5.)
        func auroc(_ method: String, _ set: String) throws -> Double {
            let sets = try #require(methods.first { $0["method"] as? String == method }?["ood"] as? [[String: Any]])
            return try #require((sets.first { $0["set"] as? String == set }?["auroc"] as? [String: Double])?["mean"])
        }
        #expect(try auroc("single-energy", "digits") > 0.9)
        #expect(try auroc("single-msp", "held-out") > 0.55)
        let settings = try #require(obj["settings"] as? [String: Any])
        for key in ["minimum_channels", "normalize_per_block", "hutchinson_samples", "hessian_batches", "sensitivity_batches", "probe_batch_size"] {
            #expect(settings[key] != nil, "settings.\(key)")
        }
    }

    @Test("train split-ensemble --json takes the bench's Split-Ensemble knobs: a 3-subtask tree at the single model's FLOP budget")
    func train() throws {
        let r = try Tern.run(["train", "split-ensemble", "--limit", "300", "--epochs", "1", "--test-limit", "300", "--ood-limit", "200",
                              "--subtasks", "3", "--rounds", "1", "--mct", "1.0", "--hutchinson-samples", "1", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try Tern.json(r.stdout)
        let flops = try #require(obj["flops"] as? Int), budget = try #require(obj["budget_flops"] as? Int)
        #expect(flops <= budget && flops > budget * 9 / 10)
        let methods = try #require(obj["methods"] as? [[String: Any]])
        #expect(methods.compactMap { $0["method"] as? String } == ["single-msp", "single-energy", "split-ensemble-combined",
                                                                    "split-ensemble-msp", "split-ensemble-energy"])
        // The flags took effect: three subtasks (default two), one round (default two), MCT 1.0 cut somewhere.
        let groups = try #require(obj["subtasks"] as? [[Int]])
        #expect(groups.count == 3 && groups.flatMap { $0 }.sorted() == Array(0..<8))
        let rounds = try #require(obj["rounds"] as? [[String: Any]])
        #expect(rounds.count == 1 && !((rounds[0]["splits"] as? [Any])?.isEmpty ?? true), "\(rounds)")
        let settings = try #require(obj["settings"] as? [String: Any])
        #expect(settings["subtasks"] as? Int == 3 && settings["mct"] as? Double == 1.0 && settings["hutchinson_samples"] as? Int == 1)
        #expect(settings["warmup_epochs"] as? Int == 1 && settings["test_images"] as? Int == 300)
    }
}
