// SPDX-License-Identifier: Apache-2.0

import Datasets
import Foundation
import GGUF
import Hummingbird
import HummingbirdTesting
import MultiLoRA
import Support
import Tensors
import TestSupport
import Testing
import TransformerModels

/// Every example in `docs/library.md` is a file of this target: it compiles with the package, the
/// tests below run it, and `docsMatch` fails when the page and the file differ.
@Suite("docs/library.md examples")
struct LibraryExampleTests {
    static let examples = ["GenerateText.swift", "Embeddings.swift", "StreamFromEngine.swift", "OpenAIServer.swift",
                           "ServeAdapters.swift", "TrainLoRA.swift", "BestEffortRouting.swift", "MultiAgentGame.swift",
                           "SplitEnsembleTree.swift", "TrainClassifier.swift", "AgentCompiler.swift", "PIMCost.swift"]

    @Test("each example on the page is its file here, word for word")
    func docsMatch() throws {
        let page = try String(contentsOfFile: Fixtures.repositoryRoot + "/docs/library.md", encoding: .utf8)
        for name in Self.examples {
            let marker = "<!-- example: Tests/LibraryExamples/\(name) -->\n```swift\n"
            let start = try #require(page.range(of: marker), "docs/library.md shows \(name)")
            let end = try #require(page.range(of: "```", range: start.upperBound..<page.endIndex))
            let shown = String(page[start.upperBound..<end.lowerBound])
            let file = try String(contentsOfFile: Fixtures.repositoryRoot + "/Tests/LibraryExamples/" + name, encoding: .utf8)
            let code = file.components(separatedBy: "\n").dropFirst(2).joined(separator: "\n")  // without the SPDX header
            #expect(shown == code, "docs/library.md and \(name) differ")
        }
    }

    @Test("generate, embed and the engine run on SmolLM2")
    func models() async throws {
        let path = Fixtures.requireDefaultModel()
        let answer = try generateText(modelPath: path, question: "What color is the sky on a clear day?")
        #expect(answer.contains("blue"))
        let same = try similarity(modelPath: path, "The cat sat on the mat.", "The cat sat on the mat.")
        #expect(abs(same - 1) < 1e-4)
        let texts = try await completeConcurrently(modelPath: path, prompts: ["The sky is", "Two plus two is", "Once upon a time"])
        #expect(texts.count == 3 && texts.allSatisfy { !$0.isEmpty })
    }

    @Test("the server example answers a chat completion")
    func server() async throws {
        let (app, engine) = try makeServer(modelPath: Fixtures.requireDefaultModel(), port: 0)
        defer { engine.shutdown() }
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/chat/completions", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"model":"my-model","messages":[{"role":"user","content":"Hi"}],"max_tokens":4}"#)) { r in
                #expect(r.status == .ok && String(buffer: r.body).contains("chat.completion"))
            }
        }
    }

    @Test("two adapters serve in one engine and change the output")
    func adapters() async throws {
        let path = Fixtures.requireDefaultModel()
        let hp = try ArchitectureRegistry.load(path: path).model.hyperparameters
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tern-library-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, seed) in [("a", UInt64(1)), ("b", 2)] {
            let adapter = LoRAAdapter.synthetic(name: name, hyperparameters: hp, rank: 4, magnitude: 0.5, seed: seed)
            try adapter.ggufWriter(architecture: "llama").write(to: dir + "/\(name).gguf")
        }
        let texts = try await serveTwoAdapters(modelPath: path, adapterA: dir + "/a.gguf", adapterB: dir + "/b.gguf")
        #expect(texts.count == 2 && texts[0] != texts[1])
    }

    @Test("LoRA training lowers the loss and writes an adapter the store reads")
    func loraTraining() throws {
        let path = Fixtures.requireDefaultModel()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("tern-library-lora-\(UInt32.random(in: 0...UInt32.max)).gguf").path
        defer { try? FileManager.default.removeItem(atPath: out) }
        let loss = try trainStyleAdapter(modelPath: path, steps: 3, to: out)
        #expect(loss.after < loss.before, "\(loss)")
        let model = try ArchitectureRegistry.load(path: path).model
        let store = AdapterStore(hyperparameters: model.hyperparameters)
        #expect(try store.loadTrusted(name: "pirate", path: out).maxRank == 8)
    }

    @Test("best-effort routing, a MAgIC game and a Split-Ensemble tree")
    func systems() async throws {
        let routed = try availabilityUnderOverload(tierTable: Fixtures.repositoryRoot + "/bench/best-effort/tiers.json")
        #expect(routed.greedyDeadline > routed.staticBest, "\(routed)")
        let game = try await prisonersDilemma()
        #expect(game.scenario == .prisoner && !game.messages.isEmpty)
        var g = SeededRandom(seed: 2)
        let data = ImageDataset(images: Tensor.uniform([32, 1, 28, 28], generator: &g), labels: (0..<32).map { Int32($0 % 4) }, classes: 4)
        let tree = try splitIntoSubtasks(data)
        #expect(tree.flops <= tree.budget && !tree.tree.isEmpty)
    }

    @Test("training and the crossbar cost model")
    func training() {
        #expect(trainXOR() < 0.05)
        let pim = resnet18OnCrossbars()
        #expect(pim.crossbars > 0 && pim.areaMM2 > 0 && pim.latencyMicroseconds > 0)
    }
}
