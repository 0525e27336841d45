// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import GGUF
import Support

#if canImport(Glibc)
import Glibc
#endif

extension Tern {
    /// `tern pull NAME`: fetch a registered model into the cache.
    struct Pull: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a registered model into the model cache ($TERN_HOME, default ~/.cache/tern).",
            discussion: "Models: " + ModelRegistry.entries.map { "\($0.name) — \($0.summary)" }.joined(separator: "; "))

        @Argument(help: "Model name (default: \(ModelRegistry.defaultName)).")
        var name: String = ModelRegistry.defaultName

        @Flag(help: "Download again even if a verified copy exists.")
        var force = false

        @Flag(help: "Print only the cached file's path on stdout.")
        var quiet = false

        func run() throws {
            guard let entry = ModelRegistry.entry(named: name) else {
                throw CLIError("unknown model '\(name)'; known: \(ModelRegistry.entries.map(\.name).joined(separator: ", "))")
            }
            let store = ModelStore()
            try store.pull(entry, progress: !quiet, force: force)
            print(store.path(for: entry))
        }
    }

    /// `tern inspect FILE.gguf`: metadata and tensor table.
    struct Inspect: ParsableCommand, ReportsJSON {
        static let configuration = CommandConfiguration(abstract: "Print a GGUF file's metadata and tensor table.")

        @Argument(help: "A GGUF file, or a registered model name.")
        var file: String

        @OptionGroup var format: JSONOption

        @Option(help: "Show at most this many elements of long arrays (text output).")
        var arrayLimit = 8

        func run() throws {
            let path = ModelRegistry.entry(named: file) != nil ? try ModelStore().resolve(file, progress: true) : file
            let gguf: GGUFFile
            do { gguf = try GGUFFile(path: path) } catch { throw CLIError("\(path): \(error)") }
            if json {
                func number(_ x: some BinaryInteger) -> JSONValue { .number(Double(x)) }
                var meta: [String: JSONValue] = [:]
                for k in gguf.metadataKeys { meta[k] = jsonValue(gguf.metadata[k]!) }
                let tensors: [JSONValue] = gguf.tensors.map {
                    ["name": .string($0.name), "shape": .array($0.shape.map(number)), "type": .string($0.type.description),
                     "offset": number($0.offset), "bytes": number($0.byteCount)]
                }
                let obj: JSONValue = [
                    "path": .string(path), "version": number(gguf.version), "alignment": number(gguf.alignment),
                    "data_offset": number(gguf.dataOffset), "file_size": number(gguf.fileSize), "metadata": .object(meta), "tensors": .array(tensors),
                ]
                print(obj.jsonText())
                return
            }
            print("file: \(path)")
            print("GGUF v\(gguf.version), \(gguf.metadataKeys.count) metadata keys, \(gguf.tensors.count) tensors, alignment \(gguf.alignment), data at \(gguf.dataOffset), \(gguf.fileSize) bytes")
            print("\nmetadata:")
            let width = gguf.metadataKeys.map(\.count).max() ?? 0
            for k in gguf.metadataKeys {
                print("  \(k.padding(toLength: width, withPad: " ", startingAt: 0))  \(render(gguf.metadata[k]!))")
            }
            print("\ntensors:")
            let nameWidth = gguf.tensors.map(\.name.count).max() ?? 0
            var byType: [String: (Int, Int)] = [:]
            for t in gguf.tensors {
                let shape = t.shape.map(String.init).joined(separator: " x ")
                print("  \(t.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0))  \(t.type.description.padding(toLength: 5, withPad: " ", startingAt: 0))  [\(shape)]  \(t.byteCount) bytes @ \(t.offset)")
                let e = byType[t.type.description] ?? (0, 0)
                byType[t.type.description] = (e.0 + 1, e.1 + t.byteCount)
            }
            let params = gguf.tensors.reduce(0) { $0 + $1.elementCount }
            print("\n\(params) parameters; " + byType.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.0) tensors, \($0.value.1 >> 20) MiB" }.joined(separator: "; "))
        }

        func render(_ v: MetadataValue) -> String {
            if case .array(let t, let a) = v, a.count > arrayLimit {
                return "[\(t) × \(a.count)] " + a.prefix(arrayLimit).map(\.description).joined(separator: ", ") + ", ..."
            }
            if case .string(let s) = v, s.count > 120 {
                return String(s.prefix(117)).debugDescription.dropLast() + "...\" (\(s.count) chars)"
            }
            return v.description
        }

        func jsonValue(_ v: MetadataValue) -> JSONValue {
            switch v {
            case .string(let s): .string(s)
            case .bool(let b): .bool(b)
            case .array(_, let a): .array(a.map(jsonValue))
            default: JSONValue(v.doubleValue)
            }
        }
    }
}
