// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import EpitomePIM
import Foundation
import Support
import PIMSimulator

extension Tern {
    /// `tern pim`: the crossbar PIM cost model and EPIM's epitome designs.
    struct PIM: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pim", abstract: "Processing-in-memory crossbar cost model (EPIM).", subcommands: [Report.self])
    }
}

extension Tern.PIM {
    /// `tern pim report`: per-layer crossbars, area, latency and energy of a network for plain
    /// convolution, quantization only, pruning and epitome + quantization.
    struct Report: ParsableCommand, ReportsJSON {
        static let configuration = CommandConfiguration(
            abstract: "Per-layer crossbar count, area, latency and energy: plain, quantized, pruned, epitome + quantized.",
            discussion: """
                Networks: resnet50, resnet18, or a JSON file {"name": ..., "layers": [{"name", "kind": "conv"|"linear", \
                "inChannels", "outChannels", "kernel", "stride", "padding", "inputHeight", "inputWidth"}]}. \
                Hardware defaults are MNSIM-2.0's (256x256 1-bit cells, differential pairs, 6-bit ADC, 1-bit DAC).
                """)

        @Option(help: "resnet50, resnet18, or a network JSON file.") var network = "resnet50"
        @Option(help: "Weight bits of the quantized variants (quantization only, pruning, epitome).") var bits = 3
        @Option(help: "Weight bits of the plain baseline (32 = full precision mapped as 32 bit slices).") var baselineBits = 32
        @Option(help: "Epitome output-channel reduction of every eligible convolution.") var outFactor = 2
        @Option(help: "Epitome input-channel reduction of every eligible convolution.") var inFactor = 2
        @Option(help: "Crossbar rows = columns.") var crossbarSize = 256
        @Option(help: "Crossbar budget of the searched design as a fraction of the uniform epitome design's (0 = skip search).")
        var searchBudget = 1.0
        @Option(help: "Seed of the design search.") var seed: UInt64 = 1
        @Option(help: "Which variant's per-layer table to print (plain, quantized, pruned, epitome, epitome-searched).")
        var layers = "epitome"
        @OptionGroup var format: JSONOption

        func run() throws {
            var hw = PIMConfiguration.mnsim2
            hw.crossbarSize = crossbarSize
            hw.dacsPerGroup = crossbarSize / 2
            hw.adcsPerGroup = crossbarSize / 2
            let net: Network
            do { net = try Network.named(network) } catch { throw CLIError("\(error)") }
            let report = PIMReport.make(network: net, hardware: hw, bits: bits, baselineBits: baselineBits,
                                        outFactor: outFactor, inFactor: inFactor, searchBudget: searchBudget, seed: seed)
            if json {
                Stdout.write(try report.jsonString() + "\n")
            } else {
                Stdout.write(report.table(layersOf: layers))
            }
        }
    }
}
