// SPDX-License-Identifier: Apache-2.0

import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import OpenAIAPI
public import Support

/// A tool run as a subprocess: its description (name, rules, parameters as a JSON schema) comes
/// from a JSON file, and each call writes `{"name": ..., "arguments": {param: value, ...}}` to the
/// command's standard input and reads one JSON value from its standard output (a string becomes
/// text, a number a number, anything else a JSON observation). A non-zero exit is a tool failure.
///
/// A tools file is a JSON array:
/// ```json
/// [{"name": "wordcount", "description": "Counts the words of a text.",
///   "parameters": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
///   "command": ["python3", "wc.py"]}]
/// ```
public struct ExternalTool: Tool {
    public let name: String
    public let parameters: [ToolParameter]
    public let rules: [String]
    public let returnType: String
    /// The command and its arguments (the first is looked up in `PATH` when not a path).
    public let command: [String]
    /// Longest a call may run, in seconds.
    public let timeout: Double

    /// Creates a tool from its parts.
    public init(name: String, description: String, parameters: [ToolParameter], command: [String], returnType: String = "str", timeout: Double = 30) {
        self.name = name
        self.rules = description.isEmpty ? [] : [description]
        self.parameters = parameters
        self.command = command
        self.returnType = returnType
        self.timeout = timeout
    }

    /// Parses one tool description (JSON schema properties become positional parameters, in the
    /// order of `required` then the rest by name).
    public init(json: JSONValue) throws(AgentError) {
        guard let name = json["name"]?.stringValue, !name.isEmpty,
              name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
            throw .external(command: "?", "each tool needs a name of letters, digits and _")
        }
        guard let cmd = json["command"]?.arrayValue?.compactMap(\.stringValue), !cmd.isEmpty else {
            throw .external(command: name, "needs a non-empty \"command\" array")
        }
        let schema = json["parameters"]
        let props = schema?["properties"]?.objectValue ?? [:]
        let required = schema?["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let order = required + props.keys.filter { !required.contains($0) }.sorted()
        var params: [ToolParameter] = []
        for p in order {
            let t: ToolParameter.ParameterType
            switch props[p]?["type"]?.stringValue {
            case "number", "integer": t = .number
            case "array": t = .stringList
            default: t = .string
            }
            params.append(ToolParameter(p, t, optional: !required.contains(p)))
        }
        self.init(name: name, description: json["description"]?.stringValue ?? "", parameters: params, command: cmd,
                  returnType: json["returns"]?.stringValue ?? "str",
                  timeout: Self.number(json["timeout"]) ?? 30)
    }

    static func number(_ v: JSONValue?) -> Double? {
        if case .number(let d)? = v { return d }
        return nil
    }

    /// Loads every tool of a tools file.
    public static func load(path: String) throws(AgentError) -> [ExternalTool] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .external(command: path, "cannot read the tools file") }
        let json: JSONValue
        do { json = try JSONDecoder().decode(JSONValue.self, from: data) } catch { throw .external(command: path, "not JSON: \(error)") }
        guard let list = json.arrayValue else { throw .external(command: path, "the tools file must hold a JSON array") }
        var out: [ExternalTool] = []
        for t in list { out.append(try ExternalTool(json: t)) }
        return out
    }

    public func call(_ arguments: [TaskArgument]) async throws -> Observation {
        var named: [String: JSONValue] = [:]
        for (p, a) in zip(parameters, arguments) { named[p.name] = a.json }
        let input = try JSONEncoder.sorted.encode(JSONValue.object(["name": .string(name), "arguments": .object(named)]))
        let (status, out, err) = try await Self.run(command, input: input, timeout: timeout)
        guard status == 0 else {
            throw AgentError.external(command: command.joined(separator: " "), "exit \(status): \(String(decoding: err, as: UTF8.self).prefix(300))")
        }
        let text = String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else { return .text(text) }
        switch value {
        case .string(let s): return .text(s)
        case .number(let d): return .number(d)
        default: return .json(value)
        }
    }

    static let ignoreBrokenPipe: Void = { signal(SIGPIPE, SIG_IGN) }()

    /// Runs a process off the cooperative pool, feeding `input` and collecting both outputs.
    static func run(_ command: [String], input: Data, timeout: Double) async throws -> (Int32, Data, Data) {
        _ = ignoreBrokenPipe
        return try await withCheckedThrowingContinuation { (k: CheckedContinuation<(Int32, Data, Data), any Error>) in
            let thread = Thread {
                let p = Process()
                if command[0].contains("/") {
                    p.executableURL = URL(fileURLWithPath: command[0])
                    p.arguments = Array(command.dropFirst())
                } else {
                    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                    p.arguments = command
                }
                let i = Pipe(), o = Pipe(), e = Pipe()
                p.standardInput = i
                p.standardOutput = o
                p.standardError = e
                do { try p.run() } catch {
                    k.resume(throwing: AgentError.external(command: command.joined(separator: " "), "cannot start: \(error)"))
                    return
                }
                // A command may exit without reading its input: the write then fails with EPIPE
                // instead of killing this process (SIGPIPE is ignored, as servers do).
                try? i.fileHandleForWriting.write(contentsOf: input)
                try? i.fileHandleForWriting.close()
                nonisolated(unsafe) var errData = Data()
                let reader = Thread { errData = e.fileHandleForReading.readDataToEndOfFile() }
                reader.start()
                nonisolated(unsafe) let process = p
                let killer = DispatchWorkItem { if process.isRunning { process.terminate() } }
                DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: killer)
                let outData = o.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                killer.cancel()
                while !reader.isFinished { usleep(1000) }
                k.resume(returning: (p.terminationStatus, outData, errData))
            }
            thread.start()
        }
    }
}
