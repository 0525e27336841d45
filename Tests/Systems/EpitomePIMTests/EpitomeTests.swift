// SPDX-License-Identifier: Apache-2.0

import Support
import Autograd
import EpitomePIM
import NeuralNetworks
import PIMSimulator
import Tensors
import Testing

/// Largest |a − b| relative to max |b| (≥ 1).
func maxRelativeDifference(_ a: Tensor, _ b: Tensor) -> Float {
    let x = a.scalars, y = b.scalars
    precondition(x.count == y.count)
    let scale = max(1, y.map(abs).max() ?? 1)
    return zip(x, y).map { abs($0 - $1) }.max()! / scale
}

@Suite("Epitome index mapping")
struct IndexMappingTests {
    @Test("output wrapping and input repetition: W[o, c] = E[o mod Co_E, c mod Ci_E]")
    func wrapping() {
        let map = EpitomeIndexMap(epitome: EpitomeShape(outChannels: 2, inChannels: 3, height: 1, width: 1),
                                  outChannels: 5, inChannels: 7, kernelHeight: 1, kernelWidth: 1)
        let idx = map.flatIndices
        #expect(idx.count == 35)
        for o in 0..<5 {
            for c in 0..<7 { #expect(Int(idx[o * 7 + c]) == (o % 2) * 3 + c % 3) }
        }
        #expect(map.outputCopies == 3 && map.distinctWindows == [0])
        // Every epitome element is read: (o mod 2, c mod 3) counts.
        #expect(map.reuseCounts.reduce(0, +) == 35)
        #expect(map.reuseCounts[0] == 3 * 3)  // o ∈ {0, 2, 4}, c ∈ {0, 3, 6}
        #expect(map.maxInputFanIn == 3)
    }

    @Test("shifted input patches and spatial windows follow the documented rule")
    func offsets() {
        // Ci = 6, Ci_E = 4, β = 2, s_in = 1: patches start at 0, 1, 2 → φ = 0 1 1 2 2 3.
        let shape = EpitomeShape(outChannels: 1, inChannels: 4, height: 4, width: 4, inputPatch: 2, inputShift: 1)
        let map = EpitomeIndexMap(epitome: shape, outChannels: 5, inChannels: 6, kernelHeight: 3, kernelWidth: 3)
        #expect((0..<6).map(map.inputChannel) == [0, 1, 1, 2, 2, 3])
        #expect(map.windowCount == 4)
        // Output copies 0…4 read windows 0, 1, 2, 3, 0 at (0,0) (0,1) (1,0) (1,1) (0,0).
        #expect((0..<5).map { map.windowIndex(copy: $0) } == [0, 1, 2, 3, 0])
        #expect(map.windowOffset(3).dy == 1 && map.windowOffset(3).dx == 1)
        #expect(map.distinctWindows == [0, 1, 2, 3])
        // W[3, 4, 2, 1] = E[0, φ(4) = 2, 2 + 1, 1 + 1].
        #expect(map.epitomeIndex(o: 3, c: 4, y: 2, x: 1) == ((0 * 4 + 2) * 4 + 3) * 4 + 2)
        #expect(map.outputGather == [0, 1, 2, 3, 0])
        #expect(map.coveredInputChannels == 4)
    }

    @Test("the identity epitome reproduces the weight exactly")
    func identity() {
        let map = EpitomeIndexMap(epitome: .identity(outChannels: 3, inChannels: 2, kernel: 3), outChannels: 3, inChannels: 2,
                                  kernelHeight: 3, kernelWidth: 3)
        #expect(map.flatIndices == (0..<54).map { Int32($0) })
        #expect(map.reuseCounts.allSatisfy { $0 == 1 })
    }
}

@Suite("Epitome convolution: reuse identities and gradients")
struct EpitomeConvolutionTests {
    @Test("(a) output wrapping: conv(x, repeat_out(E)) = channel_repeat(conv(x, E))")
    func outputWrapping() {
        var g = SeededRandom(seed: 3)
        let x = Tensor.normal([2, 4, 6, 6], generator: &g), e = Tensor.normal([3, 4, 3, 3], generator: &g)
        let map = EpitomeIndexMap(epitome: EpitomeShape(outChannels: 3, inChannels: 4, height: 3, width: 3),
                                  outChannels: 8, inChannels: 4, kernelHeight: 3, kernelWidth: 3)
        let opts = Conv2DOptions(padding: 1)
        let full = Variable.epitomeConv2d(Variable(x), epitome: Variable(e), map: map, opts).value
        let once = Variable.conv2d(Variable(x), Variable(e), opts).value  // [2, 3, 6, 6]
        let copied = once.indexSelected(alongAxis: 1, (0..<8).map { Int32($0 % 3) })
        #expect(maxRelativeDifference(full, copied) < 1e-5)
    }

    @Test("(b) input repetition: conv(x, repeat_in(E)) = conv(Σ_g x_g, E)")
    func inputRepetition() {
        var g = SeededRandom(seed: 4)
        let x = Tensor.normal([2, 6, 5, 5], generator: &g), e = Tensor.normal([4, 2, 3, 3], generator: &g)
        let map = EpitomeIndexMap(epitome: EpitomeShape(outChannels: 4, inChannels: 2, height: 3, width: 3),
                                  outChannels: 4, inChannels: 6, kernelHeight: 3, kernelWidth: 3)
        let full = Variable.epitomeConv2d(Variable(x), epitome: Variable(e), map: map).value
        let summed = x.sliced(alongAxis: 1, 0..<2) + x.sliced(alongAxis: 1, 2..<4) + x.sliced(alongAxis: 1, 4..<6)
        let once = Variable.conv2d(Variable(summed), Variable(e)).value
        #expect(maxRelativeDifference(full, once) < 1e-5)
    }

    @Test("the reuse datapath equals the gathered weight for offsets, patches and strides", arguments: [
        EpitomeShape(outChannels: 3, inChannels: 2, height: 3, width: 3),
        EpitomeShape(outChannels: 3, inChannels: 4, height: 4, width: 5, inputPatch: 3, inputShift: 1),
        EpitomeShape(outChannels: 2, inChannels: 3, height: 5, width: 4, inputPatch: 2, inputShift: 2, spatialStride: 3),
    ])
    func reuseEqualsGather(shape: EpitomeShape) {
        var g = SeededRandom(seed: 5)
        let x = Tensor.normal([2, 7, 6, 6], generator: &g)
        let e = Tensor.normal([shape.outChannels, shape.inChannels, shape.height, shape.width], generator: &g)
        let bias = Tensor.normal([8], generator: &g)
        let map = EpitomeIndexMap(epitome: shape, outChannels: 8, inChannels: 7, kernelHeight: 3, kernelWidth: 3)
        let opts = Conv2DOptions(stride: 2, padding: 1)
        let a = Variable.epitomeConv2d(Variable(x), epitome: Variable(e), map: map, bias: Variable(bias), opts).value
        let b = Variable.epitomeConv2dReusing(Variable(x), epitome: Variable(e), map: map, bias: Variable(bias), opts).value
        #expect(a.shape == [2, 8, 3, 3])
        #expect(maxRelativeDifference(b, a) < 1e-5)
    }

    @Test("gradients of both datapaths match finite differences (scatter-add backward)")
    func finiteDifferences() {
        var g = SeededRandom(seed: 6)
        let shape = EpitomeShape(outChannels: 2, inChannels: 2, height: 4, width: 3, inputPatch: 2, inputShift: 1)
        let map = EpitomeIndexMap(epitome: shape, outChannels: 5, inChannels: 3, kernelHeight: 3, kernelWidth: 3)
        let x = Tensor.normal([1, 3, 4, 4], generator: &g)
        let e = Tensor.normal([2, 2, 4, 3], generator: &g)
        let opts = Conv2DOptions(padding: 1)
        let gather = GradientCheck.compare({ Variable.epitomeConv2d($0[0], epitome: $0[1], map: map, opts) }, at: [x, e])
        #expect(gather.worstRatio <= 1, "\(gather)")
        let reuse = GradientCheck.compare({ Variable.epitomeConv2dReusing($0[0], epitome: $0[1], map: map, opts) }, at: [x, e])
        #expect(reuse.worstRatio <= 1, "\(reuse)")
        // The epitome gradient is the scatter-add of the weight gradient.
        let ev = Variable(e, requiresGradient: true)
        let w = ev.epitomeWeight(map)
        let seed = Tensor.normal(w.shape, generator: &g)
        (w * Variable(seed)).sum().backward()
        var expected = [Float](repeating: 0, count: e.count)
        for (k, i) in map.flatIndices.enumerated() { expected[Int(i)] += seed.scalars[k] }
        #expect(maxRelativeDifference(ev.gradient!, Tensor(shape: e.shape, scalars: expected)) < 1e-6)
    }
}

@Suite("Epitome least-squares projection")
struct ProjectionTests {
    @Test("projecting an expanded epitome recovers it; projecting any weight gives the per-element mean")
    func projection() {
        var g = SeededRandom(seed: 12)
        let shape = EpitomeShape(outChannels: 2, inChannels: 3, height: 4, width: 3, inputPatch: 2, inputShift: 1)
        let conv = EpitomeConv2d(5, 4, kernelSize: 3, epitome: shape, generator: &g)
        let target = Tensor.normal([2, 3, 4, 3], generator: &g)
        let w = Variable(target).epitomeWeight(conv.map).value
        conv.project(fromWeight: w)
        let used = conv.map.reuseCounts.map { $0 > 0 }
        for (i, (a, b)) in zip(conv.epitome.value.scalars, target.scalars).enumerated() where used[i] {
            #expect(abs(a - b) < 1e-6)
        }
        let random = Tensor.normal([4, 5, 3, 3], generator: &g)
        conv.project(fromWeight: random)
        var sums = [Float](repeating: 0, count: shape.parameterCount)
        for (k, i) in conv.map.flatIndices.enumerated() { sums[Int(i)] += random.scalars[k] }
        for (i, n) in conv.map.reuseCounts.enumerated() where n > 0 {
            #expect(abs(conv.epitome.value.scalars[i] - sums[i] / Float(n)) < 1e-5)
        }
    }
}

@Suite("Epitome-aware quantization")
struct QuantizationTests {
    @Test("3-bit weights take at most 7 levels per output channel and pass gradients straight through")
    func levelsAndSTE() {
        var g = SeededRandom(seed: 7)
        let w = Tensor.normal([4, 30], generator: &g)
        let q = WeightQuantizer(bits: 3)
        let wq = q.quantized(w)
        let s = q.scales(w)
        for o in 0..<4 {
            let row = Array(wq.scalars[(o * 30)..<((o + 1) * 30)])
            let steps = row.map { $0 / s[o] }
            #expect(steps.allSatisfy { abs($0 - $0.rounded()) < 1e-4 && abs($0) <= 3 + 1e-4 })
            #expect(Set(steps.map { Int($0.rounded()) }).count <= 7)
        }
        let v = Variable(w, requiresGradient: true)
        (q(v) * 2).sum().backward()
        #expect(v.gradient!.scalars.allSatisfy { $0 == 2 })
    }

    @Test("reuse weights change the scale toward the heavily reused elements")
    func reuseWeighted() {
        // One channel: a large rarely-used element and small heavily reused ones.
        let w = Tensor(shape: [1, 4], scalars: [4.0, 0.9, -1.1, 1.0])
        let q = WeightQuantizer(bits: 3)
        let plain = q.scales(w)[0], weighted = q.scales(w, reuse: [1, 50, 50, 50])[0]
        #expect(weighted < plain)
        let err = { (s: Float) in [0.9, -1.1, 1.0].map { v in abs(v - q.quantize(Float(v), scale: s)) }.reduce(0, +) }
        #expect(err(weighted) < err(plain))
    }
}

@Suite("EPIM cost mapping and design search")
struct MappingAndSearchTests {
    let model = CrossbarCostModel(.mnsim2)

    @Test("epitome 3x3 256->256 halved both ways at 8 bits: 1152 rows x 1024 cells = 5 x 4 tiles, 40 crossbars (plain: 144)")
    func epitomeCrossbars() {
        let l = LayerShape(name: "c", inChannels: 256, outChannels: 256, kernel: 3, padding: 1, inputHeight: 14, inputWidth: 14)
        let e = EpitomeShape.reduced(outChannels: 256, inChannels: 256, kernel: 3, outFactor: 2, inFactor: 2)
        let w = CrossbarWorkload.epitome(l, e, weightBits: 8)
        #expect(model.cost(w).crossbars == 40)
        #expect(w.passes == 1 && w.extraInputBits == 1 && w.activeRowsPerPass == 1152 && w.activeColumnsPerPass == 128)
        #expect(w.digitalAdditions == 128 * 14 * 14)     // pre-sum of the second input half, per input pixel
        #expect(w.outputCopies == 128 * 14 * 14)         // the second output half is copied
        #expect(w.macs * 4 == l.macs)
        let naive = CrossbarWorkload.epitome(l, e, weightBits: 8, featureMapReuse: false)
        #expect(naive.passes == 4 && naive.outputCopies == 0)
        let (fast, slow) = (model.cost(w), model.cost(naive))
        #expect(fast.crossbars == slow.crossbars)
        #expect(fast.latencyMicroseconds < slow.latencyMicroseconds && fast.energyMicrojoules < slow.energyMicrojoules)
    }

    @Test("uniform designs and pruning: stored weights and the first layer stays plain")
    func designs() {
        let n = Network.resnet50()
        let d = NetworkDesign.uniform(n, outFactor: 2, inFactor: 2)
        #expect(d.epitomes[0] == nil && d.epitomes.last! == nil)
        #expect(d.epitomes.compactMap { $0 }.count == 52)
        #expect(d.storedParameters < n.parameterCount / 3)
        let p = n.channelPruned(keep: 0.5)
        #expect(p.layers[0].inChannels == 3 && p.layers.last!.outChannels == 1000)
        #expect(p.layers[1].inChannels == 32 && p.layers[1].outChannels == 32)
    }

    @Test("the evolutionary search stays within its crossbar budget and is deterministic under a seed")
    func searchBudget() {
        let n = Network.resnet18()
        let uniform = model.cost(NetworkDesign.uniform(n, outFactor: 2, inFactor: 2).workloads(weightBits: 3)).crossbars
        var search = EpitomeDesignSearch(network: n, weightBits: 3, crossbarBudget: uniform * 3 / 4, model: model)
        search.populationSize = 16
        search.generations = 150
        let a = search.run(seed: 11), b = search.run(seed: 11)
        let best = try! #require(a)
        #expect(best.crossbars <= uniform * 3 / 4)
        #expect(model.cost(best.design.workloads(weightBits: 3)).crossbars == best.crossbars)
        #expect(best.genes == b?.genes && best.fitness == b?.fitness)
        // Impossible budgets give no design.
        search.crossbarBudget = 10
        #expect(search.run(seed: 1) == nil)
    }
}

@Suite("Epitome CNN")
struct EpitomeCNNTests {
    @Test("pruning with keep 1 reproduces the network; keep 0.5 halves widths and keeps the strongest filters")
    func pruning() {
        var g = SeededRandom(seed: 9)
        let net = EpitomeCNN(widths: [4, 6, 8], weightBits: nil, generator: &g)
        net.eval()
        let x = Variable(Tensor.normal([2, 1, 28, 28], generator: &g))
        let same = net.pruned(keep: 1, weightBits: nil, generator: &g)
        same.eval()
        #expect(maxRelativeDifference(same(x).value, net(x).value) < 1e-5)
        let half = net.pruned(keep: 0.5, weightBits: 3, generator: &g)
        #expect(half.widths == [2, 3, 4])
        #expect(half(x).shape == [2, 10])
        #expect(half.design.epitomes.allSatisfy { $0 == nil })
    }

    @Test("epitome layers are reported in the design, and the reuse and gather datapaths agree on the network")
    func designAndDatapaths() {
        var g = SeededRandom(seed: 10)
        let e2 = EpitomeShape(outChannels: 3, inChannels: 2, height: 3, width: 3)
        let net = EpitomeCNN(widths: [4, 6, 8], epitomes: [nil, e2, nil], weightBits: 3, generator: &g)
        net.eval()
        #expect(net.design.epitomes[1] == e2 && net.design.epitomes[0] == nil)
        let x = Variable(Tensor.normal([2, 1, 28, 28], generator: &g))
        let fast = net(x).value
        for c in [net.conv1, net.conv2, net.conv3] { c.datapath = .gather }
        #expect(maxRelativeDifference(fast, net(x).value) < 1e-4)
    }
}
