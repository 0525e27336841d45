// SPDX-License-Identifier: Apache-2.0

import AgentCompiler
import Testing

@Suite("LLMCompiler few-shot examples")
struct PromptTests {
    @Test("the ParallelQA example plan is the plan the question generator writes (byte for byte, as measured)")
    func yearGapExample() {
        let expected = #"Question: If Lisp had appeared 4 years later and COBOL 2 years earlier, how many years apart would they be?\#n"#
            + #"1. search("Lisp")\#n2. math("the year Lisp appeared plus 4", ["$1"])\#n3. search("COBOL")\#n"#
            + #"4. math("the year COBOL appeared minus 2", ["$3"])\#n5. math("abs($2 - $4)")\#n"#
            + #"Thought: I can answer the question now.\#n6. join()<END_OF_PLAN>"#
        #expect(FewShotExamples.standard.planner[1] == expected)
    }
}
