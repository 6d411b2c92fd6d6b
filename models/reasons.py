"""Reasons an officer can say to a member: attributions grouped, ranked and put into words.

`ReasonWriter` takes the exact log-odds attributions of `models.attribution` (one column
per model feature, positive = raises the risk of default) and gives per application at most
``max_adverse`` adverse and ``max_favourable`` favourable reasons, each tied to one catalog
family (windows of one measure, such as on-time instalments over 6 and 12 months, make one
reason, not two), worded with the model's own catalog and the member's own value.

Rules that keep reasons honest:

* a family speaks only when its impact is at least ``min_impact`` log-odds;
* a value that carries no information (missing, or its evidence flag is 0: no instalment
  history behind "0 late instalments") never gives a favourable reason, and an adverse one
  says what is missing (the catalog's missing text, risk factor ``thin_file``);
* impact in points is on the score scale: ``-factor * impact_logodds`` (a reason that
  raises the risk costs points). The score itself comes from the calibrated PD, a monotone
  map of the margin, so points are exact on the raw log-odds scale the attribution explains.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from features.catalog import Feature, FiveC, Lang, RiskFactor, reason_text

__all__ = ["Direction", "ReasonWriter"]

Direction = Literal["adverse", "favourable"]
FloatArray = npt.NDArray[np.float64]
_LANGS: tuple[Lang, ...] = ("id", "en")


@dataclass(frozen=True)
class _Family:
    name: str
    members: tuple[int, ...]  # model column indices, catalog order


class ReasonWriter:
    """Reasons from attributions, for one model: its feature order, categories and catalog.

    Parameters
    ----------
    catalog:
        The catalog the model was trained with (it travels in the artifact).
    features:
        The model's feature names, in matrix column order.
    categories:
        Category texts per categorical feature, indexed by their codes in the matrix.
    points_per_logodds:
        The score scale's factor (PDO / ln 2).
    max_adverse, max_favourable:
        At most this many reasons of each direction (DOMAIN.md: at most four adverse).
    min_impact:
        Smallest impact, in log-odds, that gives a reason.
    """

    def __init__(
        self,
        catalog: Sequence[Feature],
        features: Sequence[str],
        categories: Mapping[str, Sequence[str]],
        points_per_logodds: float,
        max_adverse: int = 4,
        max_favourable: int = 2,
        min_impact: float = 0.02,
    ) -> None:
        by_name = {f.name: f for f in catalog}
        unknown = [n for n in features if n not in by_name]
        if unknown:
            raise ValueError(f"features without a catalog entry: {', '.join(unknown)}")
        self.features = list(features)
        self.catalog = [by_name[n] for n in self.features]
        self.categories = {k: list(v) for k, v in categories.items()}
        self.points_per_logodds = float(points_per_logodds)
        self.max_adverse = max_adverse
        self.max_favourable = max_favourable
        self.min_impact = min_impact
        index = {n: j for j, n in enumerate(self.features)}
        families: dict[str, list[int]] = {}
        for j, f in enumerate(self.catalog):
            families.setdefault(f.family, []).append(j)
        self.families_ = [_Family(name, tuple(m)) for name, m in families.items()]
        # column -> family one-hot, so family impacts are one matrix product
        self.membership_ = np.zeros((len(self.features), len(self.families_)))
        for g, fam in enumerate(self.families_):
            self.membership_[list(fam.members), g] = 1.0
        self.evidence_ = [
            index.get(f.evidence) if f.evidence is not None else None for f in self.catalog
        ]
        self._text_cache: dict[tuple[int, bool, Any, Lang], str] = {}

    # ------------------------------------------------------------------ ranking
    def _informative(self, X: FloatArray, j: int, i: int) -> bool:
        value = X[i, j]
        if value != value:  # NaN: missing (or an unseen category)
            return False
        ev = self.evidence_[j]
        return ev is None or X[i, ev] == 1.0

    def _lead(self, fam: _Family, phi_row: FloatArray, adverse: bool) -> list[int]:
        """The family's members in order of how strongly they push in the direction."""
        members = list(fam.members)
        if len(members) == 1:
            return members
        sign = 1.0 if adverse else -1.0
        return sorted(members, key=lambda j: -sign * phi_row[j])

    def explain(
        self, phi: FloatArray, X: FloatArray, lang: Lang | None = None
    ) -> list[list[dict[str, Any]]]:
        """Reasons per row: adverse ones first (strongest first), then favourable ones.

        ``phi`` and ``X`` are (n, n_features): attributions and the model's float matrix
        (category codes, NaN for missing). With ``lang`` only that language's texts are
        written (the other text keys are absent), which halves the wording time of a batch.
        """
        if phi.shape != X.shape or phi.shape[1] != len(self.features):
            raise ValueError(
                f"phi and X must both be (n, {len(self.features)}); got {phi.shape}, {X.shape}"
            )
        impact = phi @ self.membership_  # (n, families)
        langs = _LANGS if lang is None else (lang,)
        order = np.argsort(-np.abs(impact), axis=1, kind="stable")
        out: list[list[dict[str, Any]]] = []
        for i in range(len(phi)):
            adverse: list[dict[str, Any]] = []
            favourable: list[dict[str, Any]] = []
            for g in order[i]:
                value = impact[i, g]
                if abs(value) < self.min_impact:
                    break  # sorted by size: the rest are smaller
                is_adverse = value > 0
                if is_adverse and len(adverse) >= self.max_adverse:
                    continue
                if not is_adverse and len(favourable) >= self.max_favourable:
                    continue
                reason = self._reason(self.families_[g], i, phi[i], X, value, is_adverse, langs)
                if reason is not None:
                    (adverse if is_adverse else favourable).append(reason)
                if len(adverse) >= self.max_adverse and len(favourable) >= self.max_favourable:
                    break
            out.append(adverse + favourable)
        return out

    def _reason(
        self,
        fam: _Family,
        i: int,
        phi_row: FloatArray,
        X: FloatArray,
        impact: float,
        adverse: bool,
        langs: tuple[Lang, ...],
    ) -> dict[str, Any] | None:
        ranked = self._lead(fam, phi_row, adverse)
        informative = [j for j in ranked if self._informative(X, j, i)]
        if informative:
            j = informative[0]
            missing = False
        elif adverse:
            j = ranked[0]
            missing = True
        else:
            return None  # nothing known is no merit: no favourable reason from missing data
        f = self.catalog[j]
        shown = None if missing else self._display(j, X[i, j])
        reason: dict[str, Any] = {
            "code": f.name.upper() + ("_MISSING" if missing else ""),
            "feature": f.name,
            "group": f.group.value,
            "factor": (RiskFactor.THIN_FILE if missing else f.risk_factor).value,
            "direction": "adverse" if adverse else "favourable",
            "impact_logodds": float(impact),
            "impact_points": float(-self.points_per_logodds * impact),
            "value": shown,
        }
        for lang in langs:
            reason[f"text_{lang}"] = self._text(j, adverse, shown, missing, lang)
            reason[f"improve_{lang}"] = (
                (f.improve_id if lang == "id" else f.improve_en) if adverse else ""
            )
        return reason

    def _display(self, j: int, code: float) -> float | str:
        name = self.features[j]
        if name in self.categories:
            return self.categories[name][int(code)]
        return float(code)

    def _text(self, j: int, adverse: bool, shown: Any, missing: bool, lang: Lang) -> str:
        key = (j, adverse, None if missing else shown, lang)
        text = self._text_cache.get(key)
        if text is None:
            f = self.catalog[j]
            if missing:
                text = f.missing_id if lang == "id" else f.missing_en
            else:
                text = reason_text(f, shown, raises_risk=adverse, lang=lang)
            if len(self._text_cache) < 200_000:
                self._text_cache[key] = text
        return text


def group_by_five_c(reasons: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Reasons under their 5C heading, headings in the officers' order, empty ones left out."""
    grouped: dict[str, list[Mapping[str, Any]]] = {c.value: [] for c in FiveC}
    for r in reasons:
        grouped[str(r["group"])].append(r)
    return {k: v for k, v in grouped.items() if v}
