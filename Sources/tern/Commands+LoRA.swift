// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import Foundation
import GGUF
import MultiLoRA
import Support
import TransformerModels

extension Tern {
    /// `tern lora ...`: LoRA adapter tools.
    struct LoRA: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lora", abstract: "LoRA adapter tools (S-LoRA serving: tern serve --lora NAME=PATH / --adapter-dir DIR).",
            subcommands: [MakeDummy.self, LoRATrain.self])
    }
}

extension Tern.LoRA {
    /// `tern lora make-dummy`: deterministic synthetic adapters (S-LoRA's synthetic setting).
    struct MakeDummy: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "make-dummy",
            abstract: "Write N deterministic synthetic LoRA adapters in llama.cpp's GGUF adapter layout.",
            discussion: "Adapters are named PREFIX-0000 … and written to OUT/PREFIX-0000.gguf …; ranks cycle through --ranks. The same arguments always write the same bytes.")

        @Option(name: .shortAndLong, help: "Registered base model name or path to its GGUF file (shapes are read from it).")
        var model: String = ModelRegistry.defaultName

        @Option(help: "Number of adapters.")
        var count: Int = 1

        @Option(help: "Ranks, comma-separated; adapter i gets ranks[i % ranks.count].")
        var ranks: String = "8"

        @Option(help: "Projections to adapt: comma-separated from q,k,v,o,gate,up,down.")
        var targets: String = "q,k,v,o"

        @Option(help: "Output directory (created if missing).")
        var out: String

        @Option(help: "Name prefix.")
        var prefix: String = "lora"

        @Option(help: "Seed; adapter i uses seed + i.")
        var seed: UInt64 = 0

        @Option(help: "Entries are uniform in ±magnitude.")
        var magnitude: Float = 0.05

        func run() throws {
            guard count >= 1 && count <= 100_000 else { throw ValidationError("--count must be 1...100000") }
            let rankList = ranks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !rankList.isEmpty, rankList.allSatisfy({ $0 >= 1 && $0 <= 256 }) else { throw ValidationError("--ranks: integers in 1...256") }
            let list = try parseTargets(targets)
            let path = try ModelStore().resolve(model, progress: false)
            let file: GGUFFile
            do { file = try GGUFFile(path: path) } catch { throw CLIError("\(path): \(error)") }
            let arch = file.string("general.architecture") ?? "llama"
            let hp = try ModelHyperparameters(file: file, arch: arch)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let progress = ProgressReporter(label: "adapters", total: count)
            var bytes = 0
            for i in 0..<count {
                let name = String(format: "%@-%04d", prefix, i)
                let adapter = LoRAAdapter.synthetic(name: name, hyperparameters: hp, rank: rankList[i % rankList.count], targets: list,
                                                    magnitude: magnitude, seed: seed &+ UInt64(i))
                let dest = (out as NSString).appendingPathComponent(name + ".gguf")
                do { try adapter.ggufWriter(architecture: arch).write(to: dest) } catch { throw CLIError("\(dest): \(error)") }
                bytes += adapter.byteCount
                progress.step()
            }
            progress.finish()
            print("wrote \(count) adapter(s) to \(out) (ranks \(rankList.map(String.init).joined(separator: ",")), targets \(list.map(\.ggufName).joined(separator: ",")), \(bytes >> 20) MiB of f32 weights)")
        }
    }
}
