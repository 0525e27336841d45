// SPDX-License-Identifier: Apache-2.0

import Foundation
import PIMSimulator
import Testing

@Suite("PIM crossbar cost model")
struct CostModelTests {
    let model = CrossbarCostModel(.mnsim2)

    @Test("3x3 256->256 at 8 bits: 2304 rows (9 tiles) x 2048 cell columns (8 tiles), 72 groups, 144 crossbars")
    func handCountedCrossbars() {
        let l = LayerShape(name: "c", inChannels: 256, outChannels: 256, kernel: 3, padding: 1, inputHeight: 14, inputWidth: 14)
        let c = model.cost(.plain(l, weightBits: 8))
        #expect(c.rowTiles == 9 && c.columnTiles == 8 && c.crossbars == 144)
        #expect(model.crossbars(rows: 2304, columns: 256, bits: 8) == 144)
        // 3 bits: 768 cell columns = 3 tiles; 32 bits: 8192 = 32 tiles.
        #expect(model.cost(.plain(l, weightBits: 3)).crossbars == 9 * 3 * 2)
        #expect(model.cost(.plain(l, weightBits: 32)).crossbars == 9 * 32 * 2)
        #expect(c.utilization == 1)
    }

    @Test("a 1x1 16->8 layer on a 4x4 map at 3 bits, every term by hand")
    func handComputedSmallLayer() {
        let l = LayerShape(name: "small", inChannels: 16, outChannels: 8, kernel: 1, inputHeight: 4, inputWidth: 4)
        let c = model.cost(.plain(l, weightBits: 3))
        // 16 rows, 8 x 3 = 24 cell columns: one group of two crossbars.
        #expect(c.rowTiles == 1 && c.columnTiles == 1 && c.crossbars == 2)
        // Area: 2 x (256^2 x 1.44 + 256 x 1150) + 128 x 1650 + 128 x 0.166 um^2.
        let area = (2 * (65536 * 1.44 + 256 * 1150) + 128 * 1650 + 128 * 0.166) * 1e-6
        #expect(abs(c.areaMM2 - area) < 1e-12)
        // Latency: per bit 3 ns DAC + 3.16 ns read + 1 x 8 ns ADC + 2 ns shift-add; 8 bits; 16 positions.
        let latencyNS = 16 * 8 * (3 + 3.16 + 8 + 2)
        #expect(abs(c.latencyMicroseconds - latencyNS * 1e-3) < 1e-9)
        // Energy: 128 bit-plane activations; cells 16 x 24 x 2 at 0.15^2 x mean(1e-6, 1e-4) S x 3.16 ns;
        // ADC 24 conversions at 8 ns x 1.26 mW; DAC 16 drives at 3 ns x 3.9 uW; digital shift-add and merges.
        let acts = 128.0
        let cell = 0.0225 * (1e-6 + 1e-4) / 2 * 3.16e-9
        let cellE = acts * 16 * 24 * 2 * cell
        let adcE = acts * 24 * 8e-9 * 1.26e-3
        let dacE = acts * 16 * 3e-9 * 0.0039e-3
        let shiftE = acts * 24 * 8.1e-7 * 2e-9
        let mergeE = 16.0 * 8 * 2 * (16 * 2.5e-9 * 2e-9)  // 2 slice merges per weight column per position
        #expect(abs(c.crossbarEnergyMicrojoules - cellE * 1e6) < 1e-12)
        #expect(abs(c.adcEnergyMicrojoules - adcE * 1e6) < 1e-12)
        #expect(abs(c.dacEnergyMicrojoules - dacE * 1e6) < 1e-12)
        #expect(abs(c.digitalEnergyMicrojoules - (shiftE + mergeE) * 1e6) < 1e-12)
        #expect(abs(c.energyMicrojoules - (cellE + adcE + dacE + shiftE + mergeE) * 1e6) < 1e-12)
    }

    @Test("MNSIM converter rules: 6-bit ADC takes (6 + 2) / 1 GS/s = 8 ns and 10.08 pJ")
    func converterRules() {
        let hw = PIMConfiguration.mnsim2
        #expect(hw.adcLatency == 8)
        #expect(abs(hw.adcEnergy - 10.08e-12) < 1e-20)
        #expect(hw.dacLatency == 3)
        #expect(hw.cellsPerWeight(bits: 3) == 3 && hw.cellsPerWeight(bits: 32) == 32)
    }

    @Test("more row tiles add an adder-tree level per activation and more conversions")
    func rowTileAccumulation() {
        let small = model.cost(CrossbarWorkload(name: "a", storedRows: 256, storedColumns: 8, weightBits: 1, outputPositions: 1))
        let big = model.cost(CrossbarWorkload(name: "b", storedRows: 1024, storedColumns: 8, weightBits: 1, outputPositions: 1))
        #expect(big.rowTiles == 4 && small.rowTiles == 1)
        // 2 extra adder levels of 2 ns each, once per activation.
        #expect(abs(big.latencyMicroseconds - small.latencyMicroseconds - 2 * 2e-3) < 1e-12)
        #expect(abs(big.adcEnergyMicrojoules / small.adcEnergyMicrojoules - 4) < 1e-9)
    }

    @Test("ResNet-50: 53 convolutions and fc, 25,502,912 weights (torchvision's 25,557,032 minus BN and fc bias)")
    func resnet50Shapes() {
        let n = Network.resnet50()
        #expect(n.layers.filter { $0.kind == .conv }.count == 53)
        #expect(n.layers.last?.kind == .linear)
        #expect(n.parameterCount == 25_502_912)
        let last = n.layers[n.layers.count - 2]
        #expect(last.outputHeight == 7 && last.outChannels == 2048)
    }

    @Test("ResNet-18: 20 convolutions and fc, 11,678,912 weights (torchvision's 11,689,512 minus BN and fc bias)")
    func resnet18Shapes() {
        let n = Network.resnet18()
        #expect(n.layers.filter { $0.kind == .conv }.count == 20)
        #expect(n.parameterCount == 11_678_912)
    }

    @Test("networks decode from JSON with defaults; bad shapes are rejected")
    func jsonNetworks() throws {
        let json = """
            {"name": "tiny", "layers": [
              {"name": "c1", "inChannels": 1, "outChannels": 8, "kernel": 3, "padding": 1, "inputHeight": 28, "inputWidth": 28},
              {"name": "fc", "kind": "linear", "inChannels": 8, "outChannels": 10}]}
            """
        let n = try JSONDecoder().decode(Network.self, from: Data(json.utf8))
        #expect(n.layers[0].outputHeight == 28 && n.layers[0].stride == 1)
        #expect(n.layers[1].kind == .linear && n.layers[1].outputPositions == 1)
        #expect(n.parameterCount == 72 + 80)
        let again = try JSONDecoder().decode(Network.self, from: try JSONEncoder().encode(n))
        #expect(again == n)
        let bad = #"{"name": "x", "layers": [{"name": "c", "inChannels": 3, "outChannels": 4, "kernel": 9, "inputHeight": 4, "inputWidth": 4}]}"#
        #expect(throws: PIMError.self) { try JSONDecoder().decode(Network.self, from: Data(bad.utf8)) }
        #expect(throws: PIMError.self) { try Network.named("/nonexistent/net.json") }
    }

    @Test("crossbars never grow with fewer bits, and totals are sums of layers")
    func monotoneInBits() {
        let n = Network.resnet18()
        var previous = Int.max
        for bits in [32, 16, 8, 4, 3, 2, 1] {
            let c = model.cost(n, weightBits: bits)
            #expect(c.crossbars <= previous)
            #expect(c.crossbars == c.layers.map(\.crossbars).reduce(0, +))
            previous = c.crossbars
        }
    }
}
