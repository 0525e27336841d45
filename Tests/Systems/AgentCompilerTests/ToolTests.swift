// SPDX-License-Identifier: Apache-2.0

import AgentCompiler
import Foundation
import InferenceEngine
import OpenAIAPI
import TestSupport
import Testing

/// FOLDOC is loaded once for all tests (inflating 7 MB takes a moment).
let foldoc: FoldocDictionary = {
    do { return try FoldocDictionary() } catch { fatalError("\(error): run scripts/install-deps.sh (it installs dict-foldoc)") }
}()

@Suite("FOLDOC search tool on the installed dictionary")
struct FoldocTests {
    @Test("the dictzip file inflates and the index covers it")
    func loads() {
        #expect(foldoc.headwords.count > 14_000)
        #expect(foldoc.byteCount > 5_000_000)
    }

    @Test("exact-title lookup, case-insensitive, first sentences with the category")
    func exact() async throws {
        let search = FoldocSearchTool(dictionary: foldoc, sentences: 2)
        let text = try await search.call([.string("fortran")])
        #expect(text.description.hasPrefix("Fortran (language): "))
        #expect(text.description.contains("numerical"))
        #expect(!text.description.contains("{") && !text.description.contains("(2000-07-07)"))
        let unix = search.lookup("Unix")
        #expect(unix.contains("1969") && unix.contains("Ken Thompson"))
        #expect(!unix.contains("/yoo'niks/"))
    }

    @Test("several senses: the first is returned and the others named (disambiguation)")
    func senses() {
        let python = FoldocSearchTool(dictionary: foldoc, sentences: 2).lookup("Python")
        #expect(python.contains("Guido van Rossum") && python.contains("1991"))
        #expect(python.contains("[Other senses: compiler]"))
    }

    @Test("a redirect-only entry is followed")
    func redirect() {
        #expect(FoldocSearchTool(dictionary: foldoc).lookup("EPP").lowercased().hasPrefix("enhanced parallel port (hardware): "))
    }

    @Test("no entry: similar titles")
    func similar() {
        let r = FoldocSearchTool(dictionary: foldoc).lookup("Pythn")
        #expect(r.hasPrefix("Could not find Pythn. Similar: ["))
        #expect(r.contains("'python'"))
    }

    @Test("sentence splitting keeps abbreviations together")
    func sentences() {
        let s = FoldocDictionary.sentences(of: "It runs on e.g. Unix. Then A. Smith wrote it. 1991 was the year.")
        #expect(s == ["It runs on e.g. Unix.", "Then A. Smith wrote it.", "1991 was the year."])
    }
}

@Suite("Safe expression evaluator")
struct ExpressionTests {
    @Test("arithmetic with Python's precedence and functions")
    func values() throws {
        #expect(try SafeExpression.evaluate("abs((1991 + 3) - (1987 - 2))") == 9)
        #expect(try SafeExpression.evaluate("2 ** 3 ** 2") == 512)
        #expect(try SafeExpression.evaluate("-2 ** 2") == -4)
        #expect(try SafeExpression.evaluate("7 % 3 + -7 % 3") == 3)
        #expect(try SafeExpression.evaluate("max(1, 5, 3) / min(4, 2)") == 2.5)
        #expect(abs(try SafeExpression.evaluate("round(2.675, 2) + sqrt(16) + pi * 0") - 6.68) < 1e-9)  // 267.5 rounds to even
        #expect(try SafeExpression.evaluate("1_000 * 1e-3") == 1)
    }

    @Test("rejects code, names, strings, huge powers and runaway input", arguments: [
        "__import__('os').system('ls')", "os.system", "x + 1", "'a' * 3", "eval(1)", "1; 2", "2 ** 100000",
        "1 / 0", "5 % 0", "sqrt(-1)", "(((1)", "1 +", "", "[1, 2]", "lambda: 1",
    ])
    func rejects(_ text: String) {
        #expect(throws: AgentError.self) { try SafeExpression.evaluate(text) }
    }

    @Test("length and depth limits")
    func limits() {
        #expect(throws: AgentError.self) { try SafeExpression.evaluate(String(repeating: "1+", count: 300) + "1") }
        #expect(throws: AgentError.self) { try SafeExpression.evaluate(String(repeating: "(", count: 100) + "1" + String(repeating: ")", count: 100)) }
        #expect(throws: AgentError.self) { try SafeExpression.evaluate(String(repeating: "-", count: 200) + "1") }
    }

    @Test("calc tool returns a typed number")
    func calc() async throws {
        #expect(try await CalculatorTool().call([.string("abs(1969 - 1991)")]) == .number(22))
    }
}

@Suite("External command tools")
struct ExternalToolTests {
    @Test("a tools file: JSON schema -> parameters; JSON in on stdin, JSON out on stdout")
    func roundTrip() async throws {
        let dir = NSTemporaryDirectory() + "tern-tools-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let file = dir + "/tools.json"
        try """
            [{"name": "echojson", "description": "Echoes its input.", "command": ["cat"],
              "parameters": {"type": "object", "properties": {"text": {"type": "string"}, "n": {"type": "number"}}, "required": ["text"]}},
             {"name": "answer", "description": "Always 42.", "command": ["/bin/sh", "-c", "cat >/dev/null; echo 42"]},
             {"name": "fails", "description": "Exits 3.", "command": ["/bin/sh", "-c", "echo bad >&2; exit 3"]}]
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let tools = try ExternalTool.load(path: file)
        #expect(tools.map(\.name) == ["echojson", "answer", "fails"])
        #expect(tools[0].parameters == [ToolParameter("text", .string), ToolParameter("n", .number, optional: true)])
        #expect(tools[0].signature == "echojson(text: str, n: Optional[number]) -> str")
        let echoed = try await tools[0].call([.string("hi"), .number(2)])
        #expect(echoed == .json(.object(["name": .string("echojson"), "arguments": .object(["text": .string("hi"), "n": .number(2)])])))
        #expect(try await tools[1].call([]) == .number(42))
        await #expect(throws: AgentError.self) { try await tools[2].call([]) }
    }
}

@Suite("Constrained plan grammar and generated questions")
struct GrammarTests {
    var registry: ToolRegistry {
        ToolRegistry([FoldocSearchTool(dictionary: foldoc), MathTool(client: ScriptedModel(plans: [], joins: []), model: "m")])
    }

    @Test("gold plans are in the grammar; references to later tasks and unknown tools are not")
    func grammar() throws {
        let g = try RegexConstraint(PlannerPrompt.grammar(tools: registry, first: 1, maxTasks: 8))
        func ok(_ s: String) -> Bool { g.isComplete(Array(s.utf8)) }
        func prefix(_ s: String) -> Bool { g.isValidPrefix(Array(s.utf8)) }
        #expect(ok("1. search(\"Python\")\n2. search(\"Perl\")\n3. join()<END_OF_PLAN>"))
        #expect(ok("1. search(\"Python\")\n2. math(\"the year plus 3\", [\"$1\"])\n3. math(\"abs($2 - $1)\")\n4. join()<END_OF_PLAN>"))
        #expect(ok("1. search(\"Python\")\n2. math(\"the year plus 3\", [\"$1\"])\n3. join()<END_OF_PLAN>"))
        #expect(!prefix("1. search(\"$2\")"))             // a reference to a later task
        #expect(!prefix("1. search(\"Python\")\n2. math(\"x\", [\"$2\"])"))  // a reference to itself
        #expect(!prefix("1. browse("))                     // an unknown tool
        #expect(!prefix("1. join()"))                      // an empty plan
        #expect(!prefix("1. search(\"a\")\n3."))           // skipped number
        // Replanning: numbering continues and earlier results may be referenced.
        let r = try RegexConstraint(PlannerPrompt.grammar(tools: registry, first: 4, maxTasks: 3, earlier: [1, 2]))
        #expect(r.isComplete(Array("4. math(\"the year plus 1\", [\"$2\"])\n5. join()<END_OF_PLAN>".utf8)))
    }

    @Test("question sets are deterministic, gold scripts are consistent, and match the shipped file")
    func questions() throws {
        let a = QuestionSets.generate(foldoc, count: 5)
        #expect(a == QuestionSets.generate(foldoc, count: 5))
        #expect(a.filter { $0.set == "hotpotqa" }.count == 5 && a.filter { $0.set == "movie" }.count == 5 && a.filter { $0.set == "parallelqa" }.count == 5)
        let search = FoldocSearchTool(dictionary: foldoc, sentences: 2)
        let names = ["search", "math"]
        for q in a {
            let (tasks, issues) = StreamingPlanParser.parse(q.gold.plan, toolNames: names)
            #expect(issues.isEmpty, "\(q.id)")
            #expect(tasks.last?.isJoin == true)
            #expect(Joiner.parse(q.gold.joiner) == .finish(answer: q.answer, thought: Joiner.parse(q.gold.joiner).thoughtText))
            #expect(ReAct.parseAction(q.gold.react.last!)! == ("Finish", q.answer))
            // Every entity resolves in FOLDOC.
            for e in q.entities { #expect(!search.lookup(e).hasPrefix("Could not find"), "\(e)") }
            if q.set == "parallelqa" {
                #expect(tasks.map(\.dependencies) == [[], [1], [], [3], [2, 4], [1, 2, 3, 4, 5]])
            }
            if q.set == "movie" { #expect(tasks.count == 9 && tasks.dropLast().allSatisfy(\.dependencies.isEmpty)) }
        }
        // The shipped file is this generator's output.
        let shipped = try QuestionSets.load(path: Fixtures.repositoryRoot + "/bench/compiler/questions.json")
        #expect(shipped == QuestionSets.generate(foldoc, count: shipped.count / 3))
    }
}

extension Joiner.Decision {
    var thoughtText: String {
        switch self {
        case .finish(_, let t), .replan(_, let t): t
        }
    }
}
