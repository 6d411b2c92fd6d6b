"""The `/v1` routes, one module per resource; `api_router` is what `create_app` mounts."""

from fastapi import APIRouter

from serving.api import scores

api_router = APIRouter(prefix="/v1")
api_router.include_router(scores.router)

__all__ = ["api_router"]
