"""The `/v1` routes, one module per resource; `api_router` is what `create_app` mounts."""

from fastapi import APIRouter

from serving.api import admin, batches, consents, model, scores

api_router = APIRouter(prefix="/v1")
api_router.include_router(scores.router)
api_router.include_router(batches.router)
api_router.include_router(consents.router)
api_router.include_router(model.router)
api_router.include_router(admin.router)

__all__ = ["api_router"]
