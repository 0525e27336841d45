// SPDX-License-Identifier: Apache-2.0

import PIMSimulator

/// Crossbars, area and latency of ResNet-18 with 3-bit weights on the MNSIM 2.0 configuration.
func resnet18OnCrossbars() -> (crossbars: Int, areaMM2: Double, latencyMicroseconds: Double) {
    let cost = CrossbarCostModel(.mnsim2).cost(.resnet18(), weightBits: 3)
    return (cost.crossbars, cost.areaMM2, cost.latencyMicroseconds)
}
