"""The one scoring path: a member's current profile plus a loan request -> PD, score, grade,
decision, maximum amount, reasons and the policy rules that fired, with the model and the
profile's as-of date. The command line uses it today; the API and the console will.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from features.application import LoanRequest, application_frame, application_record
from features.profile_store import ProfileStore
from models.artifact import AmanahModel
from models.reasons import group_by_five_c
from models.registry import flat_output

__all__ = [
    "BatchEngine",
    "ScoringError",
    "request_summary",
    "score_application",
    "score_batch",
]

BatchEngine = Literal["local", "dask"]
# a profile older than this is flagged: the member's recent behaviour is not in it
STALE_PROFILE_DAYS = 31


class ScoringError(LookupError):
    """The application cannot be scored (unknown member, no profile); the message says why."""


def score_application(
    model: AmanahModel,
    store: ProfileStore,
    member_id: str,
    request: LoanRequest,
    lang: Literal["id", "en"] | None = None,
) -> dict[str, Any]:
    """One application from the current profile store, as an officer scores at the counter.

    Raises ScoringError when the member has no profile in the store."""
    profile = store.fetch(member_id)
    if profile is None:
        raise ScoringError(
            f"member {member_id!r} has no profile in {store.root}: unknown member, or the "
            "profiles were built before the member joined (run `amanah features build`)"
        )
    record = application_record(profile, request)
    (scored,) = model.predict_records([record], lang=lang)
    reasons = scored.pop("reasons")
    age = (request.application_date - store.as_of).days
    return {
        "member_id": member_id,
        "cooperative_id": profile.get("cooperative_id"),
        "request": request_summary(request),
        **{k: _plain(v) for k, v in scored.items()},
        "thin_file": bool("THIN_FILE" in scored["rule_codes"]),
        "adverse": [r for r in reasons if r["direction"] == "adverse"],
        "favourable": [r for r in reasons if r["direction"] == "favourable"],
        "reasons_by_five_c": group_by_five_c(reasons),
        "profile_as_of": store.as_of.isoformat(),
        "profile_age_days": age,
        "profile_stale": age > STALE_PROFILE_DAYS,
        "model": model.identity(),
    }


def request_summary(request: LoanRequest) -> dict[str, Any]:
    """The loan request as a scored answer repeats it (single and batch alike)."""
    return {
        "amount": request.amount,
        "tenor_months": request.tenor_months,
        "purpose": request.purpose,
        "product": request.product,
        "flat_monthly_rate": request.flat_monthly_rate,
        "application_date": request.application_date.isoformat(),
        # as the member declared them (None: not given); not model inputs
        "declared_monthly_income": request.declared_monthly_income,
        "declared_household_expenses": request.declared_household_expenses,
        "income_verified": request.income_verified,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _score_chunk(
    model_dir: str, profiles: pd.DataFrame, requests: pd.DataFrame, lang: str
) -> pd.DataFrame:
    """One chunk of a batch: plain arguments, so it runs in-process or on a Dask worker."""
    return _scored_frame(AmanahModel.load(Path(model_dir)), profiles, requests, lang)


def _scored_frame(
    model: AmanahModel, profiles: pd.DataFrame, requests: pd.DataFrame, lang: str
) -> pd.DataFrame:
    frame = application_frame(profiles, requests)
    scored = flat_output(model.predict(frame, lang="en" if lang == "en" else "id"), model)
    scored.insert(0, "member_id", frame["member_id"].to_numpy())
    scored.insert(1, "profile_as_of", pd.to_datetime(frame["as_of"]).dt.date.astype("str"))
    return scored


def score_batch(
    model: AmanahModel,
    features: Path,
    requests: pd.DataFrame,
    lang: Literal["id", "en"] = "id",
    engine: BatchEngine = "local",
    workers: int = 2,
    scheduler: str | None = None,
    chunk_rows: int = 20_000,
) -> pd.DataFrame:
    """Score a file's worth of applications: one output row per request, in request order.

    On Dask the requests are cut into chunks of ``chunk_rows``, each scored on a worker
    with the model saved once to a temporary folder the workers read; outputs are identical
    to the local engine (tested)."""
    profiles = ProfileStore(features).profiles(requests["member_id"].astype("str").tolist())
    if engine == "local":
        return _scored_frame(model, profiles, requests, lang)
    import tempfile

    from features.dask_cluster import dask_client

    with tempfile.TemporaryDirectory() as tmp, dask_client(scheduler, workers) as client:
        model.save(Path(tmp) / "model")
        starts = range(0, len(requests), chunk_rows)
        futures = [
            client.submit(
                _score_chunk,
                str(Path(tmp) / "model"),
                profiles,
                requests.iloc[s : s + chunk_rows],
                lang,
                pure=False,
            )
            for s in starts
        ]
        parts = client.gather(futures)
    # the saved model keeps its metadata, registry fields included
    return pd.concat(parts) if parts else _scored_frame(model, profiles, requests, lang)
