// SPDX-License-Identifier: Apache-2.0

import Foundation
import TestSupport
import Testing

@Suite("tern bench speed", .serialized)
struct BenchSpeedTests {
    let model = Fixtures.requireDefaultModel()

    @Test("--quick --json prints the shared reproduction-report shape with measured numbers")
    func quickReport() throws {
        let r = try Tern.run(["bench", "speed", "--quick", "--json", "--model", model, "--threads", "1,2"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try Tern.json(r.stdout)
        #expect(obj["system"] as? String == "speed")
        #expect(((obj["machine"] as? [String: Any])?["cpu"] as? String)?.isEmpty == false)
        let settings = try #require(obj["settings"] as? [String: Any])
        #expect(settings["quick"] as? Bool == true)
        let claims = try #require(obj["claims"] as? [[String: Any]])
        let ids = Set(claims.compactMap { $0["id"] as? String })
        #expect(ids.isSuperset(of: ["decode_1t_vs_llamacpp", "decode_2t_vs_llamacpp", "peak_rss_vs_llamacpp"]))
        for c in claims {
            #expect(c["unit"] as? String == "x")
            #expect(c["paper"] is NSNull)
            #expect(c["description"] is String && c["baseline"] is String)
            #expect(c.keys.contains("ours"))  // null in quick mode: no llama.cpp run, so no ratio
        }
        let results = try #require(obj["results"] as? [String: Any])
        let ours = try #require(results["ours"] as? [String: [String: [Double]]])
        for threads in ["1", "2"] {
            let m = try #require(ours[threads])
            for key in ["prefill_32", "decode", "batched_4"] {
                #expect((m[key]?.first ?? 0) > 0, "\(threads) threads \(key)")
            }
        }
    }
}
