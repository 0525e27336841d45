// SPDX-License-Identifier: Apache-2.0

/// Small built-in word lists the systems generate tasks from (so every machine generates the same
/// items): thirty countries and their capitals, used by best-effort serving's fact task and the
/// LoRA style task's questions.
public enum Gazetteer {
    /// (country, capital).
    public static let capitals: [(String, String)] = [
        ("France", "Paris"), ("Germany", "Berlin"), ("Italy", "Rome"), ("Spain", "Madrid"), ("Japan", "Tokyo"),
        ("China", "Beijing"), ("Russia", "Moscow"), ("Egypt", "Cairo"), ("Canada", "Ottawa"), ("Australia", "Canberra"),
        ("Brazil", "Brasilia"), ("Argentina", "Buenos Aires"), ("Mexico", "Mexico City"), ("India", "New Delhi"),
        ("Greece", "Athens"), ("Portugal", "Lisbon"), ("Norway", "Oslo"), ("Sweden", "Stockholm"), ("Finland", "Helsinki"),
        ("Poland", "Warsaw"), ("Austria", "Vienna"), ("Ireland", "Dublin"), ("Kenya", "Nairobi"), ("Peru", "Lima"),
        ("Chile", "Santiago"), ("Turkey", "Ankara"), ("Thailand", "Bangkok"), ("Vietnam", "Hanoi"), ("Cuba", "Havana"),
        ("Hungary", "Budapest"),
    ]
}
