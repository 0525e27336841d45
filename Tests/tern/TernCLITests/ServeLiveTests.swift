// SPDX-License-Identifier: Apache-2.0

import Foundation
import TestSupport
import Testing

/// A `tern serve` process on a free loopback port, with the real model.
final class LiveServer {
    let process = Process()
    let base: String
    private let errPipe = Pipe()

    init(arguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: Tern.binary)
        process.arguments = ["serve", "--port", "0", "--threads", "2"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errPipe
        try process.run()
        // The first "listening on" line names the port.
        var log = ""
        let deadline = Date().addingTimeInterval(30)
        while !log.contains("listening on http://"), Date() < deadline {
            let chunk = errPipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            log += String(decoding: chunk, as: UTF8.self)
        }
        guard let r = log.range(of: #"listening on (http://[0-9.]+:[0-9]+)"#, options: .regularExpression) else {
            process.terminate()
            throw CLIError("tern serve did not start: \(log)")
        }
        base = String(log[r].dropFirst("listening on ".count))
        // Drain stderr in the background so the server never blocks on a full pipe.
        let handle = errPipe.fileHandleForReading
        Thread { while !handle.availableData.isEmpty {} }.start()
        // Wait until the model is loaded.
        for _ in 0..<300 {
            if (try? shell("curl -s -o /dev/null -w '%{http_code}' \(base)/health")) == "200" { return }
            usleep(100_000)
        }
        throw CLIError("tern serve never became healthy")
    }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ s: String) { description = s }
}

/// Runs a shell command and returns its standard output (throws on non-zero exit).
@discardableResult
func shell(_ command: String) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/bash")
    p.arguments = ["-c", command]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard p.terminationStatus == 0 else { throw CLIError("`\(command)` exited \(p.terminationStatus):\n\(text)") }
    return text
}

@Suite("tern serve, live with the real model", .serialized)
struct ServeLiveTests {
    let model = Fixtures.requireDefaultModel()

    @Test("the official openai Python client: chat, streaming, completions, n, logprobs, tools, JSON, errors, 16 concurrent streams")
    func openAIClient() throws {
        let server = try LiveServer()
        let out = try shell("python3 \(Fixtures.repositoryRoot)/Tests/live/openai_client_test.py \(server.base)/v1")
        #expect(out.contains("openai client: 15 passed, 0 failed"), "\(out)")
    }

    @Test("curl: SSE framing, malformed JSON, metrics, API key, graceful SIGTERM")
    func curl() throws {
        let server = try LiveServer(arguments: ["--api-key", "k3y"])
        let auth = "-H 'Authorization: Bearer k3y' -H 'Content-Type: application/json'"
        let sse = try shell("curl -sN \(auth) \(server.base)/v1/chat/completions -d '{\"model\":\"smollm2-135m\",\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":5,\"stream\":true}'")
        #expect(sse.hasPrefix("data: {") && sse.hasSuffix("data: [DONE]\n\n"), "\(sse)")
        let bad = try shell("curl -s -w ' %{http_code}' \(auth) \(server.base)/v1/chat/completions -d '{\"model\": '")
        #expect(bad.hasSuffix(" 400") && bad.contains("\"invalid_request_error\""), "\(bad)")
        let noKey = try shell("curl -s -o /dev/null -w '%{http_code}' \(server.base)/v1/models")
        #expect(noKey == "401")
        let metrics = try shell("curl -s \(server.base)/metrics")
        #expect(metrics.contains("tern_generation_tokens_total 5"), "\(metrics)")
        // A client that disconnects mid-stream frees its pages.
        _ = try? shell("curl -sN --max-time 1 \(auth) \(server.base)/v1/completions -d '{\"model\":\"smollm2-135m\",\"prompt\":\"Once upon a time\",\"max_tokens\":2000,\"stream\":true,\"temperature\":1}' > /dev/null")
        var usage = ""
        for _ in 0..<50 {
            usage = try shell("curl -s \(server.base)/status")
            if usage.contains("\"running\":0") { break }
            usleep(100_000)
        }
        #expect(usage.contains("\"running\":0") && usage.contains("\"kv_usage\":0"), "\(usage)")
        server.process.terminate()  // SIGTERM
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
    }

    @Test("LoRA: make-dummy adapters, --lora preload, run-time load from --adapter-dir, model ids via the openai client")
    func lora() throws {
        let dir = NSTemporaryDirectory() + "tern-live-lora-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let made = try shell("\(Tern.binary) lora make-dummy --count 2 --ranks 8,16 --out \(dir)")
        #expect(made.contains("wrote 2 adapter(s)"), "\(made)")
        let server = try LiveServer(arguments: ["--lora", "style-a=\(dir)/lora-0000.gguf", "--adapter-dir", dir])
        let models = try shell("curl -s \(server.base)/v1/models")
        #expect(models.contains("\"id\":\"style-a\"") && models.contains("\"parent\":\"smollm2-135m\""), "\(models)")
        let load = try shell("curl -s -w ' %{http_code}' -H 'Content-Type: application/json' \(server.base)/v1/load_lora_adapter -d '{\"lora_name\":\"style-b\",\"lora_path\":\"\(dir)/lora-0001.gguf\"}'")
        #expect(load.hasSuffix(" 200") && load.contains("\"rank\":16"), "\(load)")
        let escape = try shell("curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \(server.base)/v1/load_lora_adapter -d '{\"lora_name\":\"x\",\"lora_path\":\"\(dir)/../../etc/passwd\"}'")
        #expect(escape == "403")
        // The official client: each model id runs its own weights (the first token's log-probability
        // differs: small random adapters may still agree on the greedy text); an unknown id is a NotFoundError.
        let script = """
        import sys, openai
        c = openai.OpenAI(base_url=sys.argv[1], api_key="x")
        out = {}
        for m in ["smollm2-135m", "style-a", "style-b"]:
            r = c.chat.completions.create(model=m, messages=[{"role": "user", "content": "Name three colors."}], max_tokens=16,
                                          temperature=0, logprobs=True, top_logprobs=1)
            assert r.model == m, r.model
            out[m] = (r.choices[0].logprobs.content[0].logprob, r.choices[0].message.content)
        assert len({v[0] for v in out.values()}) == 3, out
        try:
            c.chat.completions.create(model="style-z", messages=[{"role": "user", "content": "x"}], max_tokens=2)
            raise SystemExit("unknown adapter accepted")
        except openai.NotFoundError:
            pass
        print("lora ok", out)
        """
        let path = dir + "/client.py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        let out = try shell("python3 \(path) \(server.base)/v1")
        #expect(out.contains("lora ok"), "\(out)")
        let metrics = try shell("curl -s \(server.base)/metrics")
        #expect(metrics.contains("tern_lora_adapter_loads_total") && metrics.contains("tern_lora_adapter_pages"), "\(metrics)")
    }

    @Test("tern serve --router: a bursty replay over HTTP is routed to tiers; metrics and the web panel count them")
    func router() throws {
        let root = Fixtures.repositoryRoot
        let files = "--tiers \(root)/bench/best-effort/tiers-engine.json --policy \(root)/bench/best-effort/policy-engine.json"
        let server = try LiveServer(arguments: ["--max-running", "4", "--router", "\(root)/bench/best-effort/policy-engine.json",
                                                "--router-tiers", "\(root)/bench/best-effort/tiers-engine.json"])
        let replay = try shell("\(Tern.binary) best-effort replay --base-url \(server.base)/v1 --seconds 8 \(files)")
        #expect(replay.contains("live server:  availability") && replay.contains("simulator:    learned"), "\(replay)")
        #expect(!replay.contains("errors:") && !replay.contains("full (no router)"), "\(replay)")
        let metrics = try shell("curl -s \(server.base)/metrics")
        let routed = metrics.split(separator: "\n").filter { $0.hasPrefix("tern_router_requests_total{") }
        #expect(routed.count == 4 && routed.compactMap { Int($0.split(separator: " ").last!) }.reduce(0, +) > 0, "\(metrics)")
        #expect(metrics.contains("tern_router_unlabeled_total 0"))
        try FileManager.default.createDirectory(atPath: root + "/.build/artifacts", withIntermediateDirectories: true)
        let page = try shell("python3 \(root)/Tests/live/web_page_test.py \(server.base) \(root)/.build/artifacts/web-page-router.png router")
        #expect(page.contains("web page: 2 passed"), "\(page)")
    }

    @Test("the built-in web page streams a reply in headless Chromium")
    func webPage() throws {
        let server = try LiveServer()
        let dir = Fixtures.repositoryRoot + "/.build/artifacts"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let out = try shell("python3 \(Fixtures.repositoryRoot)/Tests/live/web_page_test.py \(server.base) \(dir)/web-page.png")
        #expect(out.contains("web page: 1 passed"), "\(out)")
        #expect(FileManager.default.fileExists(atPath: dir + "/web-page.png"))
    }
}
