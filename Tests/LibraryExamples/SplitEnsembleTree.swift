// SPDX-License-Identifier: Apache-2.0

import Datasets
import SplitEnsemble
import Support

/// Split-Ensemble: one backbone trained on two subtasks (classes {0, 1} and {2, 3}), split into a
/// tree where their masks diverge, and pruned back to the single model's FLOPs.
func splitIntoSubtasks(_ data: ImageDataset) throws -> (tree: String, flops: Int, budget: Int) {
    var c = SplitEnsembleConfiguration()
    c.widths = [8, 8, 8]
    c.batchSize = 16
    c.warmupEpochs = 1
    c.finetuneEpochs = 1
    c.rounds = 1
    let split = try SubtaskSplit(groups: [[0, 1], [2, 3]])
    var g = SeededRandom(seed: 5)
    let budget = SingleModel(widths: c.widths, pools: c.pools, classes: 4, generator: &g).flops
    let (tree, _) = SplitEnsembleTraining.trainSplitEnsemble(data, split: split, configuration: c, budgetFLOPs: budget, seed: 3)
    return (tree.treeDescription, tree.flops, budget)
}
