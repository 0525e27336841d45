// SPDX-License-Identifier: Apache-2.0

/// The parameters of an analog crossbar processing-in-memory (PIM) accelerator.
///
/// Every default is MNSIM-2.0's published configuration (thu-nics/MNSIM-2.0 at commit ca39ccb:
/// `SimConfig.ini` and `MNSIM/Hardware_Model/{Crossbar,ADC,DAC,Adder,ShiftReg}.py`), the simulator
/// by the EPIM paper's co-authors Zhenhua Zhu and Yu Wang (Zhu et al., "MNSIM 2.0: A Behavior-Level
/// Modeling Tool for Processing-In-Memory Architectures", IEEE TCAD 2023):
///
/// | parameter | default | MNSIM-2.0 source |
/// |---|---|---|
/// | crossbar | 256 × 256 cells, 1T1R | `Xbar_Size = 256,256` |
/// | cell | 1 bit (2 resistance levels), 1e6 / 1e4 Ω | `Device_Level = 2`, `Device_Resistance` |
/// | cell area | 1.44 µm² | `Device_Area = 1.44` |
/// | row driver area | 1150 µm² per row | `Crossbar.py`, analog NVM driver |
/// | read voltage / latency | 0.15 V, 3.16 ns | `Read_Voltage = 0,0.15`, `Read_Latency = 3.16` |
/// | weight polarity | 2 (a positive and a negative crossbar, subtracted in analog) | `Xbar_Polarity = 2`, `Sub_Position = 0` |
/// | DAC | choice 1: 1 bit, 3.9 µW, 0.166 µm², 1 GS/s | `DAC_Choice = 1`, `DAC.py` |
/// | ADC | choice 6: 6 bit, 1.26 mW, 1650 µm², 1 GS/s | `ADC_Choice = 6`, `ADC.py` |
/// | converters per crossbar group | 128 DACs, 128 ADCs | `DAC_Num = 128`, `ADC_Num = 128` |
/// | digital clock | 500 MHz | `Digital_Frequency = 500` |
/// | adder | 45 nm, 2.5 nW, 10·14·45² nm² per bit | `Adder.py` |
/// | shift-and-add register | 65 nm, 0.81 µW | `ShiftReg.py` |
///
/// Converter latencies follow MNSIM's rule `(bits + 2) / sampleRate` and energies are
/// `latency × power`, so the 6-bit ADC takes 8 ns and 10.08 pJ per conversion.
///
/// ```swift
/// var hw = PIMConfiguration.mnsim2
/// hw.crossbarSize = 128          // a what-if study on smaller arrays
/// ```
public struct PIMConfiguration: Sendable, Codable, Equatable {
    /// Rows and columns of one (square) crossbar.
    public var crossbarSize: Int
    /// Bits stored per cell (MNSIM: `log2(Device_Level)`).
    public var cellBits: Int
    /// Crossbars per signed weight: 2 = a differential pair of crossbars (positive and negative parts).
    public var weightPolarity: Int
    /// Area of one memory cell in µm².
    public var cellArea: Double
    /// Word-line driver area per crossbar row in µm².
    public var rowDriverArea: Double
    /// Read voltage in volts.
    public var readVoltage: Double
    /// Cell resistances from high (HRS) to low (LRS) state, in ohms.
    public var cellResistances: [Double]
    /// Crossbar read latency in ns (one analog matrix-vector product of one input bit-plane).
    public var readLatency: Double
    /// DAC resolution in bits (1 = bit-serial inputs).
    public var dacBits: Int
    /// DAC power in W.
    public var dacPower: Double
    /// DAC area in µm².
    public var dacArea: Double
    /// DAC sample rate in GS/s.
    public var dacSampleRate: Double
    /// ADC resolution in bits.
    public var adcBits: Int
    /// ADC power in W.
    public var adcPower: Double
    /// ADC area in µm².
    public var adcArea: Double
    /// ADC sample rate in GS/s.
    public var adcSampleRate: Double
    /// DACs serving one crossbar group (the `weightPolarity` crossbars holding one weight tile).
    public var dacsPerGroup: Int
    /// ADCs serving one crossbar group; columns share ADCs when this is below ``crossbarSize``.
    public var adcsPerGroup: Int
    /// Clock of the digital periphery (shift-and-add, accumulation, address tables) in MHz.
    public var digitalFrequency: Double
    /// Power of one adder bit-slice in W.
    public var adderPowerPerBit: Double
    /// Area of one adder bit-slice in µm².
    public var adderAreaPerBit: Double
    /// Power of one shift-and-add register in W.
    public var shiftRegisterPower: Double
    /// Input activation bits, fed bit-serially through 1-bit DACs.
    public var inputBits: Int

    /// MNSIM-2.0's default configuration (see the table above).
    public static let mnsim2 = PIMConfiguration(
        crossbarSize: 256, cellBits: 1, weightPolarity: 2, cellArea: 1.44, rowDriverArea: 1150,
        readVoltage: 0.15, cellResistances: [1e6, 1e4], readLatency: 3.16,
        dacBits: 1, dacPower: 0.0039e-3, dacArea: 0.166, dacSampleRate: 1,
        adcBits: 6, adcPower: 1.26e-3, adcArea: 1650, adcSampleRate: 1,
        dacsPerGroup: 128, adcsPerGroup: 128, digitalFrequency: 500,
        adderPowerPerBit: 2.5e-9, adderAreaPerBit: 10 * 14 * 45 * 45 / 1e6, shiftRegisterPower: 8.1e-7,
        inputBits: 8)

    /// Creates a configuration; prefer starting from ``mnsim2`` and changing fields.
    public init(crossbarSize: Int, cellBits: Int, weightPolarity: Int, cellArea: Double, rowDriverArea: Double,
                readVoltage: Double, cellResistances: [Double], readLatency: Double,
                dacBits: Int, dacPower: Double, dacArea: Double, dacSampleRate: Double,
                adcBits: Int, adcPower: Double, adcArea: Double, adcSampleRate: Double,
                dacsPerGroup: Int, adcsPerGroup: Int, digitalFrequency: Double,
                adderPowerPerBit: Double, adderAreaPerBit: Double, shiftRegisterPower: Double, inputBits: Int) {
        self.crossbarSize = crossbarSize; self.cellBits = cellBits; self.weightPolarity = weightPolarity
        self.cellArea = cellArea; self.rowDriverArea = rowDriverArea
        self.readVoltage = readVoltage; self.cellResistances = cellResistances; self.readLatency = readLatency
        self.dacBits = dacBits; self.dacPower = dacPower; self.dacArea = dacArea; self.dacSampleRate = dacSampleRate
        self.adcBits = adcBits; self.adcPower = adcPower; self.adcArea = adcArea; self.adcSampleRate = adcSampleRate
        self.dacsPerGroup = dacsPerGroup; self.adcsPerGroup = adcsPerGroup; self.digitalFrequency = digitalFrequency
        self.adderPowerPerBit = adderPowerPerBit; self.adderAreaPerBit = adderAreaPerBit
        self.shiftRegisterPower = shiftRegisterPower; self.inputBits = inputBits
    }

    // MARK: Derived per-operation costs (MNSIM's formulas)

    /// One ADC conversion in ns: `(bits + 2) / rate` (MNSIM `ADC.calculate_ADC_latency`).
    public var adcLatency: Double { Double(adcBits + 2) / adcSampleRate }
    /// One ADC conversion in J.
    public var adcEnergy: Double { adcLatency * 1e-9 * adcPower }
    /// One DAC conversion in ns.
    public var dacLatency: Double { Double(dacBits + 2) / dacSampleRate }
    /// One DAC conversion in J.
    public var dacEnergy: Double { dacLatency * 1e-9 * dacPower }
    /// One digital clock cycle in ns.
    public var digitalCycle: Double { 1e3 / digitalFrequency }
    /// Energy of reading one active cell for one bit-plane in J: `V²/R̄ · t_read`, with R̄ the
    /// harmonic mean over resistance levels (cells equally likely in each state).
    public var cellReadEnergy: Double {
        let meanConductance = cellResistances.map { 1 / $0 }.reduce(0, +) / Double(cellResistances.count)
        return readVoltage * readVoltage * meanConductance * readLatency * 1e-9
    }
    /// Area of one crossbar (cells plus row drivers) in µm².
    public var crossbarArea: Double {
        Double(crossbarSize * crossbarSize) * cellArea + Double(crossbarSize) * rowDriverArea
    }
    /// Area of one crossbar group in µm²: its `weightPolarity` crossbars and their converters.
    public var groupArea: Double {
        Double(weightPolarity) * crossbarArea + Double(adcsPerGroup) * adcArea + Double(dacsPerGroup) * dacArea
    }
    /// Cell columns one weight of `bits` bits occupies (bit slicing), per polarity.
    public func cellsPerWeight(bits: Int) -> Int { (bits + cellBits - 1) / cellBits }
}
