// SPDX-License-Identifier: Apache-2.0

import MultiAgentGames

/// MAgIC: a seeded random agent plays the Prisoner's Dilemma against the scripted defenders in the
/// released setting 0. Swap `RandomPlayer` for a `ChatPlayer` over any `ChatModelClient` to test a
/// language model; the record holds every message and the outcome the seven metrics score.
func prisonersDilemma() async throws -> GameRecord {
    let arena = Arena(settings: SettingsGenerator.generate(count: 1), model: "none", agent: "random") { _, _, seat in
        RandomPlayer(seed: UInt64(seat))
    }
    return try await arena.play(.prisoner, setting: 0)
}
