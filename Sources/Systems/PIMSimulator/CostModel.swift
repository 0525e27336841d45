// SPDX-License-Identifier: Apache-2.0

/// What one layer asks of the crossbars: the stored weight matrix and how it is activated.
///
/// A plain convolution stores its unrolled weight `[Ci·kh·kw, Co]` and activates every row and
/// column once per output position (``plain(_:weightBits:)``). Other operators (epitomes, in the
/// `EpitomePIM` module) store a smaller matrix and describe their datapath with the remaining
/// fields: several row-subset activations per position, digitally pre-summed (wider) inputs, and
/// outputs copied rather than computed.
public struct CrossbarWorkload: Sendable, Equatable {
    public var name: String
    /// Rows of the stored weight matrix (one per input element of a patch).
    public var storedRows: Int
    /// Weight columns of the stored matrix (before bit slicing and polarity).
    public var storedColumns: Int
    /// Weight precision in bits.
    public var weightBits: Int
    /// Output positions per image.
    public var outputPositions: Int
    /// Crossbar activations per output position, executed one after another on the same arrays.
    public var passes: Int
    /// Rows driven in each activation.
    public var activeRowsPerPass: Int
    /// Weight columns read (converted) in each activation.
    public var activeColumnsPerPass: Int
    /// Extra input bits beyond ``PIMConfiguration/inputBits`` (pre-summed inputs are wider; each
    /// extra bit is one more bit-serial cycle).
    public var extraInputBits: Int
    /// Depth in digital cycles of the adder tree that pre-sums inputs, per output position.
    public var preSumDepth: Int
    /// Extra digital additions per image (input pre-sums, partial sums of separate passes).
    public var digitalAdditions: Int
    /// Output values per image that are copied from a computed channel instead of computed.
    public var outputCopies: Int
    /// Multiply-accumulates per image of the operator as written (for reference).
    public var macs: Int
    /// Weights stored.
    public var storedParameters: Int { storedRows * storedColumns }

    public init(name: String, storedRows: Int, storedColumns: Int, weightBits: Int, outputPositions: Int,
                passes: Int = 1, activeRowsPerPass: Int? = nil, activeColumnsPerPass: Int? = nil,
                extraInputBits: Int = 0, preSumDepth: Int = 0, digitalAdditions: Int = 0, outputCopies: Int = 0, macs: Int = 0) {
        precondition(storedRows > 0 && storedColumns > 0 && weightBits > 0 && passes > 0,
                     "CrossbarWorkload \(name): rows \(storedRows), columns \(storedColumns), bits \(weightBits), passes \(passes)")
        self.name = name
        self.storedRows = storedRows; self.storedColumns = storedColumns; self.weightBits = weightBits
        self.outputPositions = outputPositions; self.passes = passes
        self.activeRowsPerPass = activeRowsPerPass ?? storedRows
        self.activeColumnsPerPass = activeColumnsPerPass ?? storedColumns
        self.extraInputBits = extraInputBits; self.preSumDepth = preSumDepth
        self.digitalAdditions = digitalAdditions; self.outputCopies = outputCopies; self.macs = macs
    }

    /// The conventional mapping of a layer: the unrolled weight `[Ci/groups·kh·kw, Co]` (grouped
    /// convolutions stored block-diagonally, as MNSIM does), every row and column active once per
    /// output position.
    public static func plain(_ layer: LayerShape, weightBits: Int) -> CrossbarWorkload {
        CrossbarWorkload(name: layer.name, storedRows: layer.weightRows * layer.groups, storedColumns: layer.outChannels,
                         weightBits: weightBits, outputPositions: layer.outputPositions, macs: layer.macs)
    }
}

/// Crossbars, area, latency and energy of one layer on one image.
public struct LayerCost: Sendable, Equatable, Codable {
    public var name: String
    public var weightBits: Int
    /// Weights stored on crossbars.
    public var storedParameters: Int
    /// Row tiles × column tiles of the stored matrix (one crossbar group each).
    public var rowTiles: Int, columnTiles: Int
    /// Physical crossbars: groups × polarity.
    public var crossbars: Int
    /// Fraction of the allocated cells that hold weight bits.
    public var utilization: Double
    /// Crossbars, converters and drivers, in mm².
    public var areaMM2: Double
    /// One image, in µs.
    public var latencyMicroseconds: Double
    /// One image, in µJ, and its parts.
    public var energyMicrojoules: Double
    public var crossbarEnergyMicrojoules: Double
    public var adcEnergyMicrojoules: Double
    public var dacEnergyMicrojoules: Double
    public var digitalEnergyMicrojoules: Double
    /// Multiply-accumulates per image.
    public var macs: Int
}

/// Per-layer costs and their totals for a whole network.
public struct NetworkCost: Sendable, Equatable, Codable {
    public var layers: [LayerCost]
    public var crossbars: Int { layers.map(\.crossbars).reduce(0, +) }
    public var areaMM2: Double { layers.map(\.areaMM2).reduce(0, +) }
    /// Layers run one after another (no inter-layer pipelining), so latencies add.
    public var latencyMicroseconds: Double { layers.map(\.latencyMicroseconds).reduce(0, +) }
    public var energyMicrojoules: Double { layers.map(\.energyMicrojoules).reduce(0, +) }
    public var storedParameters: Int { layers.map(\.storedParameters).reduce(0, +) }
    public var macs: Int { layers.map(\.macs).reduce(0, +) }
    public init(layers: [LayerCost]) { self.layers = layers }
}

/// The analytical crossbar cost model (behaviour-level, after MNSIM-2.0).
///
/// **Mapping.** A stored matrix of `R` rows and `C` weight columns at `B` bits occupies
/// `C·⌈B/b_cell⌉` cell columns per polarity, cut into `⌈R/X⌉ × ⌈C·⌈B/b_cell⌉/X⌉` tiles of an
/// `X × X` crossbar. Each tile is one crossbar group of `P` crossbars (a differential pair for
/// `P = 2`) sharing 128 DACs and 128 ADCs, so
/// `crossbars = P · ⌈R/X⌉ · ⌈C·⌈B/b_cell⌉/X⌉`. Example: a 3 × 3 convolution 256 → 256 at 8 bits
/// has `R = 2304` (9 row tiles) and `2048` cell columns (8 column tiles): 72 groups, 144 crossbars.
///
/// **Latency.** Inputs are bit-serial through 1-bit DACs. One activation of one input bit-plane
/// takes `t_DAC + t_read + ⌈c/A⌉·t_ADC + t_clk` (drive, read, convert the `c ≤ X` active columns of a
/// group with `A` ADCs, shift-and-add); all tiles work in parallel, then the row tiles' partial
/// sums are added in a `⌈log2 tiles⌉`-deep adder tree. Per output position:
/// `passes · ((B_in + extra)·t_bit + t_clk·⌈log2 rowTiles⌉) + t_clk·preSumDepth`; a layer is that
/// times its output positions (layers run one after another).
///
/// **Energy.** Per activation and input bit: every active cell of both polarities
/// (`V²/R̄ · t_read`), one ADC conversion per active cell column per row tile (the polarity pair is
/// subtracted in analog first), one DAC drive per active row per column tile, one shift-and-add
/// register cycle per conversion; plus 16-bit digital additions for tile accumulation, bit-slice
/// merging and the workload's extra additions, and one register write per copied output.
public struct CrossbarCostModel: Sendable {
    /// The hardware.
    public var configuration: PIMConfiguration

    public init(_ configuration: PIMConfiguration = .mnsim2) { self.configuration = configuration }

    /// Physical crossbars needed to store `rows × columns` weights of `bits` bits.
    public func crossbars(rows: Int, columns: Int, bits: Int) -> Int {
        let (r, c) = tiles(rows: rows, columns: columns, bits: bits)
        return r * c * configuration.weightPolarity
    }

    /// Row and column tiles of a stored matrix.
    public func tiles(rows: Int, columns: Int, bits: Int) -> (rows: Int, columns: Int) {
        let x = configuration.crossbarSize
        let cellColumns = columns * configuration.cellsPerWeight(bits: bits)
        return ((rows + x - 1) / x, (cellColumns + x - 1) / x)
    }

    /// The cost of one workload on one image.
    public func cost(_ w: CrossbarWorkload) -> LayerCost {
        let hw = configuration
        let x = hw.crossbarSize
        let slices = hw.cellsPerWeight(bits: w.weightBits)
        let (rowTiles, columnTiles) = tiles(rows: w.storedRows, columns: w.storedColumns, bits: w.weightBits)
        let groups = rowTiles * columnTiles
        let crossbars = groups * hw.weightPolarity
        let utilization = Double(w.storedRows * w.storedColumns * slices) / Double(groups * x * x)
        let area = Double(groups) * hw.groupArea * 1e-6

        // One activation, one input bit-plane.
        let activeCellColumns = w.activeColumnsPerPass * slices
        let activeRowTiles = min(rowTiles, (w.activeRowsPerPass + x - 1) / x)
        let activeColumnTiles = min(columnTiles, (activeCellColumns + x - 1) / x)
        let columnsPerGroup = min(activeCellColumns, x)
        let conversionsPerADC = (columnsPerGroup + hw.adcsPerGroup - 1) / hw.adcsPerGroup
        let tBit = hw.dacLatency + hw.readLatency + Double(conversionsPerADC) * hw.adcLatency + hw.digitalCycle
        let treeDepth = ceilLog2(max(activeRowTiles, 1))
        let inputBits = hw.inputBits + w.extraInputBits
        let perPosition = Double(w.passes) * (Double(inputBits) * tBit + Double(treeDepth) * hw.digitalCycle)
            + Double(w.preSumDepth) * hw.digitalCycle
        let latencyNS = Double(w.outputPositions) * perPosition

        let activations = Double(w.outputPositions * w.passes * inputBits)
        let cellE = activations * Double(w.activeRowsPerPass * activeCellColumns * hw.weightPolarity) * hw.cellReadEnergy
        let conversions = activations * Double(activeCellColumns * activeRowTiles)
        let adcE = conversions * hw.adcEnergy
        let dacE = activations * Double(w.activeRowsPerPass * activeColumnTiles) * hw.dacEnergy
        let cycle = hw.digitalCycle * 1e-9
        let shiftAddE = conversions * hw.shiftRegisterPower * cycle
        let addE = 16 * hw.adderPowerPerBit * cycle  // one 16-bit addition
        let positionsPasses = Double(w.outputPositions * w.passes)
        let accumulations = positionsPasses * Double(w.activeColumnsPerPass * (max(activeRowTiles - 1, 0) + slices - 1))
        let digitalE = shiftAddE + (accumulations + Double(w.digitalAdditions)) * addE
            + Double(w.outputCopies) * hw.shiftRegisterPower * cycle
        let energy = cellE + adcE + dacE + digitalE
        return LayerCost(name: w.name, weightBits: w.weightBits, storedParameters: w.storedParameters,
                         rowTiles: rowTiles, columnTiles: columnTiles, crossbars: crossbars, utilization: utilization,
                         areaMM2: area, latencyMicroseconds: latencyNS * 1e-3, energyMicrojoules: energy * 1e6,
                         crossbarEnergyMicrojoules: cellE * 1e6, adcEnergyMicrojoules: adcE * 1e6,
                         dacEnergyMicrojoules: dacE * 1e6, digitalEnergyMicrojoules: digitalE * 1e6, macs: w.macs)
    }

    /// Costs of a list of workloads.
    public func cost(_ workloads: [CrossbarWorkload]) -> NetworkCost { NetworkCost(layers: workloads.map(cost)) }

    /// Costs of a network mapped conventionally with every layer at `weightBits`.
    public func cost(_ network: Network, weightBits: Int) -> NetworkCost {
        cost(network.layers.map { CrossbarWorkload.plain($0, weightBits: weightBits) })
    }
}

/// `⌈log2 n⌉` for `n ≥ 1`: the depth of a binary adder tree over `n` inputs.
public func ceilLog2(_ n: Int) -> Int {
    precondition(n >= 1, "ceilLog2(\(n))")
    var d = 0
    while (1 << d) < n { d += 1 }
    return d
}
