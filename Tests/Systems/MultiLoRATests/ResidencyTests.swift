// SPDX-License-Identifier: Apache-2.0

import InferenceEngine
import MultiLoRA
import Testing

@Suite("S-LoRA adapter residency policy")
struct ResidencyTests {
    typealias Q = AdapterResidencyState.Queued

    @Test("prefetch: queue order, each adapter once, resident ones and requests without adapters skipped, while pages last")
    func picks() {
        let queued: [Q?] = [nil, Q(adapter: 1, pages: 3, resident: false), Q(adapter: 2, pages: 2, resident: true),
                            Q(adapter: 1, pages: 3, resident: false), Q(adapter: 3, pages: 4, resident: false), Q(adapter: 4, pages: 1, resident: false)]
        let separate = AdapterResidencyState(queued: queued, availablePages: 8, runningSequences: 5, unifiedPool: false)
        // 8 pages: 1 (3) fits, 3 (4) fits, 4 (1) fits exactly.
        #expect(SLoRAResidency().prefetch(separate) == [1, 3, 4])
        var short = separate
        short.availablePages = 6
        #expect(SLoRAResidency().prefetch(short) == [1, 4], "3 needs 4 of the 3 pages left; 4 still fits after it")
    }

    @Test("unified paging keeps one page per running request plus one for KV growth")
    func margin() {
        let queued: [Q?] = [Q(adapter: 7, pages: 3, resident: false)]
        let tight = AdapterResidencyState(queued: queued, availablePages: 5, runningSequences: 2, unifiedPool: true)
        #expect(SLoRAResidency().prefetch(tight).isEmpty, "3 pages + margin 3 > 5")
        var roomy = tight
        roomy.availablePages = 6
        #expect(SLoRAResidency().prefetch(roomy) == [7])
    }

    @Test("standby adapters stay only while the queue names them; on demand never looks ahead")
    func standby() {
        #expect(SLoRAResidency().keepsStandby(neededByQueue: true) && !SLoRAResidency().keepsStandby(neededByQueue: false))
        #expect(SLoRAResidency().lookahead == 8 && OnDemandResidency().lookahead == 0)
        let any = AdapterResidencyState(queued: [Q(adapter: 1, pages: 1, resident: false)], availablePages: 100, runningSequences: 0, unifiedPool: false)
        #expect(OnDemandResidency().prefetch(any).isEmpty)
    }
}
