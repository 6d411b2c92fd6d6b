"""`GET /v1/model`: the model card of the model serving now, for any valid API key.

What a partner may know of the model that scores its members: which version it is and
where it came from (the registry, the cached copy, or given), when it was trained and
loaded, its family, test metrics, the reference applicant its reasons are measured
against, its features with their labels, 5C group and direction, the decision policy and
the score scale. No rows of data. The card is of the holder's current snapshot, taken
once, so it never mixes two versions.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from serving.deps import ModelUnavailableError, PartnerDep
from serving.model_holder import Snapshot, Source

router = APIRouter(tags=["model"])

Direction = Literal["higher_raises_risk", "higher_lowers_risk", "not_constrained"]
DIRECTIONS: dict[int, Direction] = {
    1: "higher_raises_risk", -1: "higher_lowers_risk", 0: "not_constrained",
}  # fmt: skip


class CatalogEntry(BaseModel):
    """One feature of the model as an officer reads it."""

    name: str
    label_id: str
    label_en: str
    group: str = Field(description="Which of the 5C: character, capacity, capital, ...")
    risk_factor: str
    direction: Direction = Field(description="How a higher value moves the risk.")
    dtype: str
    unit: str


class ModelCard(BaseModel):
    name: str | None
    version: str | None
    alias: str | None
    source: Source = Field(description="registry, cache (the last good copy) or given.")
    loaded_at: datetime
    trained_at: str | None
    family: str
    target: str | None
    periods: dict[str, Any] | None
    test_metrics: dict[str, Any]
    reference_applicant: dict[str, float | str | None]
    catalog: list[CatalogEntry]
    policy_version: str
    policy: dict[str, Any] = Field(description="Version, grade cut-offs and thresholds.")
    score_scale: dict[str, float | None]


def current_snapshot(request: Request) -> Snapshot:
    """The holder's current snapshot; none answers 503 `model_unavailable`."""
    holder = getattr(request.app.state, "model_holder", None)
    snapshot: Snapshot | None = holder.current() if holder is not None else None
    if snapshot is None:
        raise ModelUnavailableError(
            "No model is loaded; try again later.",
            "Belum ada model yang dimuat; coba lagi nanti.",
        )
    return snapshot


SnapshotDep = Annotated[Snapshot, Depends(current_snapshot)]


def model_card(snapshot: Snapshot) -> ModelCard:
    """The card of `snapshot`: its identity and the artifact's own card."""
    model = snapshot.model
    card = model.card()
    entries = {f.name: f for f in model.catalog}
    catalog = [
        CatalogEntry(
            name=f.name, label_id=f.description_id.rstrip(". "),
            label_en=f.description_en.rstrip(". "), group=f.group.value,
            risk_factor=f.risk_factor.value, direction=DIRECTIONS[f.monotone], dtype=f.dtype,
            unit=f.unit,
        )
        for f in (entries[name] for name in model.features if name in entries)
    ]  # fmt: skip
    return ModelCard(
        name=snapshot.name,
        version=snapshot.version,
        alias=snapshot.alias,
        source=snapshot.source,
        loaded_at=snapshot.loaded_at,
        trained_at=None if card.get("trained_at") is None else str(card["trained_at"]),
        family=model.family,
        target=card.get("target"),
        periods=_finite(card.get("periods")),
        test_metrics=_finite(card.get("test_metrics") or {}),
        reference_applicant=_finite(model.reference),
        catalog=catalog,
        policy_version=model.policy.version,
        policy=_finite(model.policy.to_dict()),
        score_scale=_finite(model.scale.to_dict()),
    )


def _finite(value: Any) -> Any:
    """`value` with every NaN or infinity as None: JSON has neither."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


@router.get("/model", response_model=ModelCard)
def get_model(_principal: PartnerDep, snapshot: SnapshotDep) -> ModelCard:
    """The card of the model that scores now."""
    return model_card(snapshot)
