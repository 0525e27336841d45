// SPDX-License-Identifier: Apache-2.0

import Support
public import PIMSimulator
import Tensors

/// PIM-aware layer-wise epitome design: an evolutionary search over per-layer epitome shapes
/// under a crossbar budget.
///
/// Each eligible layer picks an output and an input channel-reduction factor from ``factors``.
/// A design's fitness is an accuracy proxy minus `λ ×` its energy relative to the plain network:
/// the proxy is `−mean_l (log2 compression_l)²`, a convex penalty that prefers spreading
/// compression over layers to crushing a few (an [REC] stand-in for the paper's validation
/// accuracy, which needs ImageNet training). Designs above the budget are repaired by raising the
/// reduction of the layer with the most crossbars until they fit, so every member of the
/// population is feasible. Steady-state evolution: tournament selection (3), a one-layer mutation,
/// the child replaces the worst member when it is fitter. Deterministic under a seed.
///
/// ```swift
/// let net = Network.resnet50()
/// var search = EpitomeDesignSearch(network: net, weightBits: 3, crossbarBudget: 1200)
/// if let best = search.run(seed: 1) { print(best.crossbars, best.fitness) }
/// ```
public struct EpitomeDesignSearch: Sendable {
    public var network: Network
    public var weightBits: Int
    /// Largest total crossbar count allowed.
    public var crossbarBudget: Int
    public var model: CrossbarCostModel
    /// Candidate reduction factors for output and for input channels.
    public var factors: [Int] = [1, 2, 4, 8]
    /// Weight `λ` of relative energy in the fitness.
    public var energyWeight: Double = 0.1
    public var populationSize: Int = 50
    public var generations: Int = 1500

    /// One evaluated design.
    public struct Candidate: Sendable, Equatable {
        /// `(outFactor, inFactor)` per layer (1, 1 for plain layers).
        public var genes: [Gene]
        public var design: NetworkDesign
        public var crossbars: Int
        public var energyMicrojoules: Double
        public var latencyMicroseconds: Double
        public var fitness: Double
    }

    public struct Gene: Sendable, Equatable, Hashable {
        public var outFactor: Int, inFactor: Int
        public init(outFactor: Int, inFactor: Int) { self.outFactor = outFactor; self.inFactor = inFactor }
    }

    public init(network: Network, weightBits: Int, crossbarBudget: Int, model: CrossbarCostModel = .init()) {
        self.network = network; self.weightBits = weightBits; self.crossbarBudget = crossbarBudget; self.model = model
    }

    private var eligible: [Int] {
        network.layers.indices.filter { NetworkDesign.isEligible(network.layers[$0], index: $0) }
    }

    /// The design of `genes`.
    public func design(_ genes: [Gene]) -> NetworkDesign {
        NetworkDesign(network: network, epitomes: zip(network.layers, genes).map { l, g in
            g.outFactor * g.inFactor == 1 ? nil
                : .reduced(outChannels: l.outChannels, inChannels: l.inChannels, kernel: l.kernelHeight,
                           outFactor: g.outFactor, inFactor: g.inFactor)
        })
    }

    /// Evaluates `genes` (no feasibility check).
    public func evaluate(_ genes: [Gene]) -> Candidate {
        evaluate(genes, reference: model.cost(network, weightBits: weightBits).energyMicrojoules)
    }

    func evaluate(_ genes: [Gene], reference: Double) -> Candidate {
        let d = design(genes)
        let cost = model.cost(d.workloads(weightBits: weightBits))
        let idx = eligible
        let penalty = idx.map { i -> Double in
            let c = Double(genes[i].outFactor * genes[i].inFactor)
            let l = log2(c)
            return l * l
        }.reduce(0, +) / Double(max(idx.count, 1))
        let fitness = -penalty - energyWeight * cost.energyMicrojoules / reference
        return Candidate(genes: genes, design: d, crossbars: cost.crossbars, energyMicrojoules: cost.energyMicrojoules,
                         latencyMicroseconds: cost.latencyMicroseconds, fitness: fitness)
    }

    private func crossbars(_ genes: [Gene]) -> [Int] {
        // Stored-matrix sizes only (cheap): rows Ci_E·kh·kw, columns Co_E.
        zip(network.layers, genes).map { l, g in
            let rows = (l.inChannels / l.groups + g.inFactor - 1) / g.inFactor * l.kernelHeight * l.kernelWidth * l.groups
            return model.crossbars(rows: rows, columns: (l.outChannels + g.outFactor - 1) / g.outFactor, bits: weightBits)
        }
    }

    /// Raises reductions of the most expensive layers until the design fits the budget; `nil`
    /// when even the largest factors everywhere do not fit.
    func repaired(_ genes: [Gene]) -> [Gene]? {
        var g = genes
        let maxF = factors.max() ?? 1
        while true {
            let per = crossbars(g)
            if per.reduce(0, +) <= crossbarBudget { return g }
            // The eligible layer with the most crossbars that can still shrink.
            guard let i = eligible.filter({ g[$0].outFactor < maxF || g[$0].inFactor < maxF })
                .max(by: { (per[$0], -$0) < (per[$1], -$1) }) else { return nil }
            let next: (Int) -> Int = { f in factors.first { $0 > f } ?? f }
            if g[i].outFactor <= g[i].inFactor && g[i].outFactor < maxF { g[i].outFactor = next(g[i].outFactor) }
            else if g[i].inFactor < maxF { g[i].inFactor = next(g[i].inFactor) }
            else { g[i].outFactor = next(g[i].outFactor) }
        }
    }

    /// Runs the search; `nil` when no design fits the budget.
    public func run(seed: UInt64) -> Candidate? {
        var rng = SeededRandom(seed: seed)
        let reference = model.cost(network, weightBits: weightBits).energyMicrojoules
        func evaluate(_ g: [Gene]) -> Candidate { self.evaluate(g, reference: reference) }
        let plain = [Gene](repeating: Gene(outFactor: 1, inFactor: 1), count: network.layers.count)
        func randomFactor() -> Int { factors[Int(rng.next() % UInt64(factors.count))] }
        var population: [Candidate] = []
        // Seed with the uniform designs (each repaired), then random ones.
        for f in factors {
            var g = plain
            for i in eligible { g[i] = Gene(outFactor: f, inFactor: f) }
            if let r = repaired(g) { population.append(evaluate(r)) }
        }
        guard !population.isEmpty else { return nil }
        while population.count < populationSize {
            var g = plain
            for i in eligible { g[i] = Gene(outFactor: randomFactor(), inFactor: randomFactor()) }
            if let r = repaired(g) { population.append(evaluate(r)) }
        }
        let idx = eligible
        guard !idx.isEmpty else { return population.max { $0.fitness < $1.fitness } }
        for _ in 0..<generations {
            var parent = population[Int(rng.next() % UInt64(population.count))]
            for _ in 0..<2 {
                let other = population[Int(rng.next() % UInt64(population.count))]
                if other.fitness > parent.fitness { parent = other }
            }
            var g = parent.genes
            let layer = idx[Int(rng.next() % UInt64(idx.count))]
            g[layer] = Gene(outFactor: randomFactor(), inFactor: randomFactor())
            guard let r = repaired(g) else { continue }
            let child = evaluate(r)
            let worst = population.indices.min { population[$0].fitness < population[$1].fitness }!
            if child.fitness > population[worst].fitness { population[worst] = child }
        }
        return population.max { $0.fitness < $1.fitness }
    }
}

#if canImport(Glibc)
import Glibc
#endif
