// SPDX-License-Identifier: Apache-2.0

import Foundation
import TestSupport
import Testing

@Suite("tern bench speed", .serialized)
struct BenchSpeedTests {
    let model = Fixtures.requireDefaultModel()

    @Test("--quick --json prints the shared reproduction-report shape with measured numbers")
    func quickReport() throws {
        let (obj, _, claims) = try Tern.benchReport("speed", ["--model", model, "--threads", "1,2"])
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
