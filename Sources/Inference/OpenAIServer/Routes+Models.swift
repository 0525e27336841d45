// SPDX-License-Identifier: Apache-2.0

public import Hummingbird
import OpenAIAPI

/// `GET /v1/models`: the base model, then every adapter the engine's adapter source registers
/// (each a model id whose parent is the base model).
func addModelRoutes(to router: Router<BasicRequestContext>, state: ServerState) {
    router.get("/v1/models") { _, _ in
        let service = try state.requireService()
        var models: [ModelList.Model] = [.init(id: service.modelName, created: service.created, owned_by: "tern", root: service.modelName)]
        for name in service.engine.adapters?.names ?? [] {
            models.append(.init(id: name, created: service.created, owned_by: "tern", root: name, parent: service.modelName))
        }
        return jsonResponse(ModelList(data: models))
    }
}
