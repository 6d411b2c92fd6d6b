"""Many applications scored at once, each answered as `serving.scoring.score_application`
answers one: the same dict, key for key (tested), from one bulk profile read and one
vectorised `AmanahModel.predict` instead of one lookup and one model call per application.

Per-application failures are answers, not exceptions: an application whose member has no
profile gets a `ScoringError`, one dated before its profile's as-of day a
`LoanRequestError`, in its own place of the result; the others are scored.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from features.application import LoanRequest, LoanRequestError, application_frame
from features.profile_store import ProfileStore
from models.artifact import AmanahModel
from models.reasons import group_by_five_c, reason_records
from serving.scoring import STALE_PROFILE_DAYS, ScoringError, request_summary

__all__ = ["LoanApplication", "Outcome", "gc_paused", "score_applications"]

# the flat reason columns of `AmanahModel.predict` ("reason_1_code", ...); reason_id and
# reason_en (the decision's texts) are not among them
_REASON_SLOT = re.compile(r"^reason_\d+_")

Outcome = dict[str, Any] | ScoringError | LoanRequestError


@contextmanager
def gc_paused() -> Iterator[None]:
    """A batch's answers are many small objects and no cycles: the collector's passes over
    them cost more than building them (as in `AmanahModel.predict`), so it pauses."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass(frozen=True)
class LoanApplication:
    """One application of a batch: the member's profile key and the validated loan."""

    member_id: str
    request: LoanRequest


def score_applications(
    model: AmanahModel,
    store: ProfileStore,
    applications: Sequence[LoanApplication],
    profiles: pd.DataFrame | None = None,
) -> list[Outcome]:
    """One outcome per application, in order: `score_application`'s dict, or the error
    it would have raised for that application alone. `profiles`: `store.profiles` of
    (at least) these members when the caller has read them already."""
    if profiles is None:
        profiles = store.profiles([a.member_id for a in applications])
    known = _profile_days(profiles)
    outcomes: list[Outcome | None] = []
    for a in applications:
        as_of = known.get(a.member_id)
        if a.member_id not in known:
            outcomes.append(ScoringError("the member has no profile in the profile store"))
        elif as_of is not None and a.request.application_date < as_of:
            outcomes.append(
                LoanRequestError(
                    f"application_date: {a.request.application_date.isoformat()} is before "
                    f"the profile's as-of day {as_of.isoformat()}"
                )
            )
        else:
            outcomes.append(None)
    todo = [i for i, o in enumerate(outcomes) if o is None]
    if todo:
        scored = _scored([applications[i] for i in todo], profiles, model, store)
        for i, answer in zip(todo, scored, strict=True):
            outcomes[i] = answer
    return [o for o in outcomes if o is not None]


def _profile_days(profiles: pd.DataFrame) -> dict[str, date | None]:
    """Each member with a profile -> its profile's as-of day (None when it has none)."""
    ids = profiles["member_id"].astype("str").tolist()
    if "as_of" not in profiles.columns:
        return dict.fromkeys(ids)
    days = pd.to_datetime(profiles["as_of"])
    return {m: (None if pd.isna(d) else d.date()) for m, d in zip(ids, days, strict=True)}


def _requests(applications: Sequence[LoanApplication]) -> pd.DataFrame:
    """The requests as `application_frame` reads them (already validated: ledger values)."""
    r = [a.request for a in applications]
    return pd.DataFrame(
        {
            "member_id": [a.member_id for a in applications],
            "amount": [x.amount for x in r],
            "tenor_months": [x.tenor_months for x in r],
            "purpose": [x.purpose for x in r],
            "product": [x.product for x in r],
            "flat_monthly_rate": [x.flat_monthly_rate for x in r],
            "application_date": pd.to_datetime([x.application_date for x in r]),
            "declared_monthly_income": pd.Series(
                [x.declared_monthly_income for x in r], dtype=object
            ),
            "declared_household_expenses": pd.Series(
                [x.declared_household_expenses for x in r], dtype=object
            ),
            "income_verified": pd.Series([x.income_verified for x in r], dtype=object),
        }
    )


def _column(values: pd.Series) -> list[Any]:
    """A column as plain Python values, as `predict_records` gives them: a missing Rupiah
    figure as None, numpy scalars as Python ones."""
    if isinstance(values.dtype, pd.Int64Dtype):
        return [None if v is pd.NA else int(v) for v in values.tolist()]
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.astype(object).tolist()
    return [v.item() if isinstance(v, np.generic) else v for v in values.tolist()]


def _valued(
    reasons: list[list[dict[str, Any]]], categorical: set[str]
) -> list[list[dict[str, Any]]]:
    """Each reason's value as `predict_records` gives it: the frame carries every value
    as text (`ReasonWriter.explain_columns`), a number written by `str`, which `float`
    reads back exactly; a category keeps its text, even one that reads as a number."""
    for row in reasons:
        for reason in row:
            value = reason["value"]
            if value is not None and reason["feature"] not in categorical:
                reason["value"] = float(value)
    return reasons


def _scored(
    applications: Sequence[LoanApplication],
    profiles: pd.DataFrame,
    model: AmanahModel,
    store: ProfileStore,
) -> list[dict[str, Any]]:
    frame = application_frame(profiles, _requests(applications))
    out = model.predict(frame)  # both languages, as the single path answers
    reasons = _valued(reason_records(out), set(model.inputs.categories))
    names = [c for c in out.columns if not _REASON_SLOT.match(str(c))]
    columns = {str(c): _column(out[c]) for c in names}
    coops = _column(frame["cooperative_id"]) if "cooperative_id" in frame.columns else None
    identity = model.identity()
    as_of = store.as_of.isoformat()
    answers = []
    for i, a in enumerate(applications):
        request = a.request
        row = {name: values[i] for name, values in columns.items()}
        age = (request.application_date - store.as_of).days
        answers.append(
            {
                "member_id": a.member_id,
                "cooperative_id": coops[i] if coops is not None else None,
                "request": request_summary(request),
                **row,
                "thin_file": bool("THIN_FILE" in row["rule_codes"]),
                "adverse": [r for r in reasons[i] if r["direction"] == "adverse"],
                "favourable": [r for r in reasons[i] if r["direction"] == "favourable"],
                "reasons_by_five_c": group_by_five_c(reasons[i]),
                "profile_as_of": as_of,
                "profile_age_days": age,
                "profile_stale": age > STALE_PROFILE_DAYS,
                "model": dict(identity),
            }
        )
    return answers
