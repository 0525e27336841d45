// SPDX-License-Identifier: Apache-2.0

/// The shape of an epitome and its fixed sampling offsets.
///
/// An epitome `E [outChannels, inChannels, height, width]` is a small tensor from which a
/// convolution weight `W [Co, Ci, kh, kw]` is sampled with static integer indices (the
/// hardware-friendly EPIM variant of NES's epitome; see ``EpitomeIndexMap`` for the exact rule).
/// `outChannels ≤ Co`, `inChannels ≤ Ci`, `height ≥ kh`, `width ≥ kw`.
///
/// ```swift
/// // Half the output and half the input channels of a 3 × 3, 64 → 128 convolution: 4× fewer weights.
/// let shape = EpitomeShape(outChannels: 64, inChannels: 32, height: 3, width: 3)
/// ```
public struct EpitomeShape: Sendable, Codable, Equatable, Hashable {
    /// Epitome output channels `Co_E` (output channel `o` reads channel `o mod Co_E`: output wrapping).
    public var outChannels: Int
    /// Epitome input channels `Ci_E`.
    public var inChannels: Int
    /// Spatial size `h_E × w_E` (at least the kernel; larger epitomes give each output copy its own window).
    public var height: Int
    public var width: Int
    /// Input channels per input patch `β` (`1…Ci_E`; default `Ci_E`).
    public var inputPatch: Int
    /// Start offset step `s_in` of successive input patches in the epitome (default 0: every patch
    /// starts at epitome channel 0, i.e. plain input repetition).
    public var inputShift: Int
    /// Step `s_sp` through the raster of valid spatial windows between successive output copies.
    public var spatialStride: Int

    public init(outChannels: Int, inChannels: Int, height: Int, width: Int, inputPatch: Int? = nil,
                inputShift: Int = 0, spatialStride: Int = 1) {
        self.outChannels = outChannels; self.inChannels = inChannels
        self.height = height; self.width = width
        self.inputPatch = inputPatch ?? inChannels
        self.inputShift = inputShift; self.spatialStride = spatialStride
        precondition(outChannels > 0 && inChannels > 0 && height > 0 && width > 0, "EpitomeShape: \(self)")
        precondition(self.inputPatch >= 1 && self.inputPatch <= inChannels, "EpitomeShape: input patch \(self.inputPatch) not in 1…\(inChannels)")
    }

    /// The epitome that reproduces a plain convolution exactly (no reuse): `W = E`.
    public static func identity(outChannels: Int, inChannels: Int, kernel: Int) -> EpitomeShape {
        EpitomeShape(outChannels: outChannels, inChannels: inChannels, height: kernel, width: kernel)
    }

    /// Uniform channel reduction of a `Co × Ci × k × k` weight by `outFactor` and `inFactor`
    /// (`Co_E = ⌈Co / outFactor⌉`, `Ci_E = ⌈Ci / inFactor⌉`), kernel-sized.
    public static func reduced(outChannels: Int, inChannels: Int, kernel: Int, outFactor: Int, inFactor: Int) -> EpitomeShape {
        EpitomeShape(outChannels: (outChannels + outFactor - 1) / outFactor, inChannels: (inChannels + inFactor - 1) / inFactor,
                     height: kernel, width: kernel)
    }

    /// Weights stored.
    public var parameterCount: Int { outChannels * inChannels * height * width }
}

/// The static index rule from an epitome `E [Co_E, Ci_E, h_E, w_E]` to a weight `W [Co, Ci, kh, kw]`.
///
/// With `t = o / Co_E` (the output copy), `g = c / β`, `j = c mod β` (input patch and position),
/// `q_g = (g · s_in) mod Ci_E` and the `n = (h_E − kh + 1)(w_E − kw + 1)` valid windows numbered in
/// raster order, window `u(t) = (t · s_sp) mod n` at `(dy, dx) = (u / (w_E − kw + 1), u mod (w_E − kw + 1))`:
///
///     W[o, c, y, x] = E[o mod Co_E, φ(c), y + dy(t), x + dx(t)],   φ(c) = (q_g + j) mod Ci_E.
///
/// Because `φ` does not depend on the output channel or position and the window depends only on
/// the output copy, the convolution factorises exactly (the feature-map reuse EPIM's datapath
/// exploits):
///
///     conv(x, W)[:, o] = conv(S(x), E[:, :, window(t(o))])[:, o mod Co_E],   S(x)[:, m] = Σ_{φ(c) = m} x[:, c]
///
/// which contains the paper's two identities: output wrapping (`h_E = kh`: compute `Co_E`
/// channels once, copy them) and input repetition (`s_in = 0`, `β = Ci_E`: add the input groups
/// first, one crossbar pass). This is an [REC] reconstruction: the EPIM paper's exact indices are
/// not public; the NES ancestor interpolates learned offsets instead.
public struct EpitomeIndexMap: Sendable, Equatable {
    public let epitome: EpitomeShape
    /// Target weight shape `[Co, Ci, kh, kw]`.
    public let outChannels: Int, inChannels: Int, kernelHeight: Int, kernelWidth: Int

    public init(epitome: EpitomeShape, outChannels: Int, inChannels: Int, kernelHeight: Int, kernelWidth: Int) {
        precondition(epitome.outChannels <= outChannels && epitome.inChannels <= inChannels
                     && epitome.height >= kernelHeight && epitome.width >= kernelWidth,
                     "EpitomeIndexMap: epitome \(epitome) larger than weight [\(outChannels), \(inChannels), \(kernelHeight), \(kernelWidth)]")
        self.epitome = epitome
        self.outChannels = outChannels; self.inChannels = inChannels
        self.kernelHeight = kernelHeight; self.kernelWidth = kernelWidth
    }

    /// Epitome input channel read by weight input channel `c` (φ).
    public func inputChannel(_ c: Int) -> Int {
        let e = epitome
        let g = c / e.inputPatch, j = c % e.inputPatch
        let q = (g * e.inputShift) % e.inChannels
        return (q + j) % e.inChannels
    }

    /// Output copies `⌈Co / Co_E⌉`.
    public var outputCopies: Int { (outChannels + epitome.outChannels - 1) / epitome.outChannels }

    /// Valid spatial windows in the epitome.
    public var windowCount: Int { (epitome.height - kernelHeight + 1) * (epitome.width - kernelWidth + 1) }

    /// The window (raster number) read by output copy `t`.
    public func windowIndex(copy t: Int) -> Int { (t * epitome.spatialStride) % windowCount }

    /// Top-left offset `(dy, dx)` of window `u`.
    public func windowOffset(_ u: Int) -> (dy: Int, dx: Int) {
        let cols = epitome.width - kernelWidth + 1
        return (u / cols, u % cols)
    }

    /// Distinct windows in order of first use by output copies 0, 1, ….
    public var distinctWindows: [Int] {
        var seen: [Int] = []
        for t in 0..<outputCopies where !seen.contains(windowIndex(copy: t)) { seen.append(windowIndex(copy: t)) }
        return seen
    }

    /// Row-major flat index into `E` of `W[o, c, y, x]`.
    public func epitomeIndex(o: Int, c: Int, y: Int, x: Int) -> Int {
        let e = epitome
        let (dy, dx) = windowOffset(windowIndex(copy: o / e.outChannels))
        return ((o % e.outChannels * e.inChannels + inputChannel(c)) * e.height + y + dy) * e.width + x + dx
    }

    /// Flat indices into `E` for every element of `W` in row-major order (`[Co·Ci·kh·kw]`).
    public var flatIndices: [Int32] {
        var out: [Int32] = []
        out.reserveCapacity(outChannels * inChannels * kernelHeight * kernelWidth)
        for o in 0..<outChannels {
            for c in 0..<inChannels {
                for y in 0..<kernelHeight {
                    for x in 0..<kernelWidth { out.append(Int32(epitomeIndex(o: o, c: c, y: y, x: x))) }
                }
            }
        }
        return out
    }

    /// How many weight elements read each epitome element (`[Co_E·Ci_E·h_E·w_E]`; 0 = unused).
    public var reuseCounts: [Int] {
        var counts = [Int](repeating: 0, count: epitome.parameterCount)
        for i in flatIndices { counts[Int(i)] += 1 }
        return counts
    }

    /// The input channel map φ for every weight input channel (`[Ci]`).
    public var inputChannelMap: [Int32] { (0..<inChannels).map { Int32(inputChannel($0)) } }

    /// Largest number of weight input channels sharing one epitome channel (the fan-in of an
    /// input pre-sum).
    public var maxInputFanIn: Int {
        var counts = [Int](repeating: 0, count: epitome.inChannels)
        for c in 0..<inChannels { counts[inputChannel(c)] += 1 }
        return counts.max() ?? 1
    }

    /// Epitome input channels read by at least one weight input channel.
    public var coveredInputChannels: Int { Set((0..<inChannels).map(inputChannel)).count }

    /// For each output channel `o`, its channel in the concatenation of per-window results
    /// (`windowSlot · Co_E + o mod Co_E`), used by the reuse forward pass.
    public var outputGather: [Int32] {
        let windows = distinctWindows
        return (0..<outChannels).map { o in
            let slot = windows.firstIndex(of: windowIndex(copy: o / epitome.outChannels))!
            return Int32(slot * epitome.outChannels + o % epitome.outChannels)
        }
    }
}
