// SPDX-License-Identifier: Apache-2.0

import Foundation
import TestSupport
import Testing

@Suite("tern lora train with the real model")
struct LoRATrainCommandTests {
    let model = Fixtures.requireDefaultModel()

    @Test("two steps on the real model write an adapter the engine reads back, with a JSON report")
    func train() throws {
        let out = NSTemporaryDirectory() + "tern-lora-train-\(UUID().uuidString).gguf"
        defer { try? FileManager.default.removeItem(atPath: out) }
        let json = try shell("\(Tern.binary) lora train --steps 2 --batch 2 --eval 2 --json -o \(out) 2>/dev/null")
        let r = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], "\(json)")
        #expect(r["steps"] as? Int == 2 && r["heldout_questions"] as? Int == 2)
        let before = try #require(r["heldout_loss_before"] as? Double), after = try #require(r["heldout_loss_after"] as? Double)
        #expect(before.isFinite && after.isFinite && after < before, "\(before) → \(after)")
        #expect(r["base_replies_with_opening"] as? Int == 0)
        #expect(FileManager.default.fileExists(atPath: out))
        let bad = try? shell("\(Tern.binary) lora train --targets q,zz -o \(out) 2>&1")
        #expect(bad == nil)
    }
}
