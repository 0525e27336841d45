// SPDX-License-Identifier: Apache-2.0

import GGUF
import MultiLoRA
import TransformerModels

/// LoRA training through Tern's autograd on the frozen base (an f32 twin of the GGUF model): a few
/// steps teaching replies that open with a fixed phrase, then the adapter in llama.cpp's GGUF
/// layout, ready for `AdapterStore` and `tern serve --lora`. Returns the loss before and after.
func trainStyleAdapter(modelPath: String, steps: Int, to output: String) throws -> (before: Float, after: Float) {
    let file = try GGUFFile(path: modelPath)
    let loaded = try ArchitectureRegistry.load(file: file, path: modelPath)
    var settings = LoRAStyleTrainer.Settings()
    settings.steps = steps
    settings.batchSize = 2
    let trainer = LoRAStyleTrainer(model: try TrainableLlama(file: file), tokenizer: loaded.tokenizer, template: loaded.chatTemplate,
                                   settings: settings)
    let examples = AnswerStyleTask(opening: "Ahoy, matey!").examples(count: 2, heldOut: false, seed: 1)
    let before = trainer.step(examples, train: false)
    trainer.train(examples) { _, _, _ in }
    let after = trainer.step(examples, train: false)
    try trainer.lora.adapter(name: "pirate").ggufWriter(architecture: "llama").write(to: output)
    return (before, after)
}
