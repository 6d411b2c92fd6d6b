"""`POST /v1/admin/model:reload`: swap in the registry's champion now, for the `admin` scope.

The same reload as the periodic check (`serving.model_holder.ModelHolder.reload`): the
champion's version is asked for; a new one is downloaded, checked and swapped in at once,
requests in flight finishing on the old one. The answer is 200 whatever happened and says
it: the model before and after, whether it swapped, and why a version was not taken
(refused by the checks, or the registry could not be asked); the old model keeps serving
then.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from serving.deps import require_scope
from serving.model_holder import ModelHolder, Snapshot, Source
from serving.security import Scope
from serving.store.repo import Principal

router = APIRouter(prefix="/admin", tags=["admin"])

AdminPrincipal = Annotated[Principal, Depends(require_scope(Scope.ADMIN))]


class ModelIdentity(BaseModel):
    name: str | None
    version: str | None
    alias: str | None
    source: Source
    loaded_at: datetime


class ReloadAnswer(BaseModel):
    previous: ModelIdentity | None
    current: ModelIdentity | None
    swapped: bool
    refused_reason: str | None


def _identity(snapshot: Snapshot | None) -> ModelIdentity | None:
    if snapshot is None:
        return None
    return ModelIdentity(
        name=snapshot.name, version=snapshot.version, alias=snapshot.alias,
        source=snapshot.source, loaded_at=snapshot.loaded_at,
    )  # fmt: skip


@router.post("/model:reload", response_model=ReloadAnswer)
def reload_model(_principal: AdminPrincipal, request: Request) -> ReloadAnswer:
    """Ask the registry for the champion and swap it in when it is new and passes the
    checks (sync: runs on a worker thread, the event loop keeps serving)."""
    holder: ModelHolder = request.app.state.model_holder
    outcome = holder.reload()
    return ReloadAnswer(
        previous=_identity(outcome.previous), current=_identity(outcome.current),
        swapped=outcome.swapped, refused_reason=outcome.refused_reason,
    )  # fmt: skip
