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
* a count capped by the membership (`Feature.capped_by`: wajib months paid, the longest wajib
  streak, months with sales) of a member who has paid or sold in every month since she joined,
  fewer than the count's window, speaks for the length of her membership (thin file): the
  count is short because she is new (`ReasonWriter.capped_to_history`);
* impact in points is on the score scale: ``-factor * impact_logodds`` (a reason that
  raises the risk costs points). The score itself comes from the calibrated PD, a monotone
  map of the margin, so points are exact on the raw log-odds scale the attribution explains.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.catalog import Feature, FiveC, Lang, RiskFactor, reason_text
from features.wording import LANGS, languages

__all__ = ["Direction", "ReasonWriter", "adverse_factors", "group_by_five_c", "reason_records"]

Direction = Literal["adverse", "favourable"]
FloatArray = npt.NDArray[np.float64]
_FEW_ROWS = 8
_DIRECTION_CATS = np.array(["adverse", "favourable"], dtype=object)


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
        lone = [(g, f.members[0]) for g, f in enumerate(self.families_) if len(f.members) == 1]
        self._lone = (
            np.array([g for g, _ in lone], dtype=np.int64),
            np.array([j for _, j in lone], dtype=np.int64),
        )
        self._several = [
            (g, np.asarray(f.members)) for g, f in enumerate(self.families_) if len(f.members) > 1
        ]
        self.evidence_ = [
            index.get(f.evidence) if f.evidence is not None else None for f in self.catalog
        ]
        # (count, months of membership, window) of each count capped by the membership
        self.capped_ = [
            (j, index[f.capped_by], int(f.window_months))
            for j, f in enumerate(self.catalog)
            if f.capped_by is not None and f.capped_by in index and f.window_months is not None
        ]
        self._text_cache: dict[tuple[int, bool, Any, Lang], str] = {}
        # per column (and for missing values): what does not depend on the member, as the
        # categories of the output columns
        names = [f.name for f in self.catalog]
        self._name_cats = np.array(names, dtype=object)
        self._code_cats = np.array(
            [n.upper() for n in names] + [n.upper() + "_MISSING" for n in names], dtype=object
        )
        groups = [c.value for c in FiveC]
        self._group_cats = np.array(groups, dtype=object)
        self._group_code = np.array([groups.index(f.group.value) for f in self.catalog])
        factors = [r.value for r in RiskFactor]
        self._factor_cats = np.array(factors, dtype=object)
        self._factor_code = np.array([factors.index(f.risk_factor.value) for f in self.catalog])
        self._thin_code = factors.index(RiskFactor.THIN_FILE.value)
        family_factor = [int(self._factor_code[f.members[0]]) for f in self.families_]
        self._family_is_thin = np.array([c == self._thin_code for c in family_factor])
        # per risk factor, its families in order (the thin file: every family, since any
        # family whose member is unknown speaks for it)
        self._factor_families = [
            (c, list(range(len(family_factor))) if c == self._thin_code
             else [g for g, fc in enumerate(family_factor) if fc == c])
            for c in sorted(set(family_factor) | {self._thin_code})
        ]  # fmt: skip
        self._improve_cats: dict[Lang, tuple[np.ndarray, np.ndarray]] = {}
        for lang in LANGS:
            texts = [f.improve_id if lang == "id" else f.improve_en for f in self.catalog]
            distinct = [*dict.fromkeys(texts), ""]
            self._improve_cats[lang] = (
                np.array(distinct, dtype=object),
                np.array([distinct.index(t) for t in texts]),
            )
        self._categorical_at = [j for j, n in enumerate(self.features) if n in self.categories]
        self._is_categorical = np.array([n in self.categories for n in self.features])
        self._category_text = {
            j: np.array(self.categories[self.features[j]], dtype=object)
            for j in self._categorical_at
        }

    # ------------------------------------------------------------------ ranking
    def informative(self, X: FloatArray) -> npt.NDArray[np.bool_]:
        """(n, features): the value is known and its evidence flag, if any, is 1."""
        known = ~np.isnan(X)
        for j, ev in enumerate(self.evidence_):
            if ev is not None:
                known[:, j] &= X[:, ev] == 1.0
        return known

    def _leads(
        self, phi: FloatArray, known: npt.NDArray[np.bool_]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per row and family: the member that words an adverse reason (the strongest
        informative one, else the strongest: then the reason says what is missing) and the
        one that words a favourable reason (the most favourable informative one; none when
        the family knows nothing of the member)."""
        n, g_count = len(phi), len(self.families_)
        lead_adverse = np.empty((n, g_count), dtype=np.int64)
        missing = np.empty((n, g_count), dtype=np.bool_)
        lead_favourable = np.empty((n, g_count), dtype=np.int64)
        can_favour = np.empty((n, g_count), dtype=np.bool_)
        # a family of one feature: that feature, in one gather for all of them
        lone_g, lone_j = self._lone
        lead_adverse[:, lone_g] = lone_j
        lead_favourable[:, lone_g] = lone_j
        lone_known = known[:, lone_j]
        missing[:, lone_g] = ~lone_known
        can_favour[:, lone_g] = lone_known
        for g, members in self._several:
            sub, ok = phi[:, members], known[:, members]
            any_known = ok.any(axis=1)
            best = np.where(ok, sub, -np.inf).argmax(axis=1)
            lead_adverse[:, g] = members[np.where(any_known, best, sub.argmax(axis=1))]
            missing[:, g] = ~any_known
            lead_favourable[:, g] = members[np.where(ok, sub, np.inf).argmin(axis=1)]
            can_favour[:, g] = any_known
        return lead_adverse, missing, lead_favourable, can_favour

    def capped_to_history(self, phi: FloatArray, X: FloatArray) -> FloatArray:
        """``phi`` with the contribution of each count capped by the membership moved to the
        membership's feature, in the rows where the cap holds: the member has been a member
        for fewer months than the count's window and the count reaches every whole month
        since she joined (the joining month aside). "Wajib paid 4 of the last 12 months" of
        a member of 5 months who paid every month says how new she is, not how she pays
        (her share of months paid, in the same family, still speaks for that). The sum of
        the row is unchanged; a copy when anything moves."""
        out = phi
        for j, h, window in self.capped_:
            months = X[:, h]
            with np.errstate(invalid="ignore"):
                rows = (months < window) & (X[:, j] >= np.floor(months) - 1)
            if rows.any():
                if out is phi:
                    out = phi.copy()
                out[rows, h] += out[rows, j]
                out[rows, j] = 0.0
        return out

    def family_impact(self, phi: FloatArray) -> FloatArray:
        """(n, families): each family's members' attributions added in catalog order (the
        single-row path adds them in the same order, so both rank alike to the bit)."""
        out = np.empty((len(phi), len(self.families_)))
        lone_g, lone_j = self._lone
        out[:, lone_g] = phi[:, lone_j]
        for g, members in self._several:
            total = phi[:, members[0]].copy()
            for j in members[1:]:
                total += phi[:, j]
            out[:, g] = total
        return out

    def _select(
        self, phi: FloatArray, X: FloatArray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(n, slots) arrays: valid, column j, adverse, missing, impact; adverse reasons
        first (strongest first), then favourable ones, valid slots before empty ones."""
        if phi.shape != X.shape or phi.shape[1] != len(self.features):
            raise ValueError(
                f"phi and X must both be (n, {len(self.features)}); got {phi.shape}, {X.shape}"
            )
        phi = self.capped_to_history(phi, X)
        impact = self.family_impact(phi)
        lead_adv, missing, lead_fav, can_favour = self._leads(phi, self.informative(X))
        n = len(phi)
        rows = np.arange(n)
        # adverse reasons speak for risk factors: a factor weighs the sum of its adverse
        # families (in family order, as the single-row path adds them) and is worded by
        # the strongest of them; a family whose member is unknown speaks for the thin file
        hit = impact >= self.min_impact
        weight = np.zeros((n, len(self._factor_cats)))
        best = np.full((n, len(self._factor_cats)), -1, dtype=np.int64)
        speaks_thin = missing | self._family_is_thin[None, :]
        for c, families in self._factor_families:
            total = np.zeros(n)
            lead = np.full(n, -1, dtype=np.int64)
            lead_size = np.full(n, -np.inf)
            for g in families:  # family order, as the single-row path adds them
                here = speaks_thin[:, g] if c == self._thin_code else ~missing[:, g]
                take = hit[:, g] & here
                total += np.where(take, impact[:, g], 0.0)
                stronger = take & (impact[:, g] > lead_size)
                lead = np.where(stronger, g, lead)
                lead_size = np.where(stronger, impact[:, g], lead_size)
            weight[:, c] = total
            best[:, c] = lead
        adverse_key = np.where(best >= 0, weight, -np.inf)
        favourable_key = np.where((impact <= -self.min_impact) & can_favour, -impact, -np.inf)
        top_a = np.argsort(-adverse_key, axis=1, kind="stable")[:, : self.max_adverse]
        top_f = np.argsort(-favourable_key, axis=1, kind="stable")[:, : self.max_favourable]
        r = rows[:, None]
        family_a = np.maximum(best[r, top_a], 0)
        valid = np.concatenate(
            [np.isfinite(adverse_key[r, top_a]), np.isfinite(favourable_key[r, top_f])], axis=1
        )
        column = np.concatenate([lead_adv[r, family_a], lead_fav[r, top_f]], axis=1)
        adverse = np.zeros(valid.shape, dtype=np.bool_)
        adverse[:, : top_a.shape[1]] = True
        gone = np.concatenate([missing[r, family_a], np.zeros(top_f.shape, np.bool_)], axis=1)
        size = np.concatenate([weight[r, top_a], impact[r, top_f]], axis=1)
        # valid slots first, in their order: a member with two adverse reasons has her
        # favourable ones in slots 3 and 4
        order = np.argsort(~valid, axis=1, kind="stable")
        pick = (np.take_along_axis(a, order, axis=1) for a in (valid, column, adverse, gone, size))
        return tuple(pick)  # type: ignore[return-value]

    def _fields(
        self, phi: FloatArray, X: FloatArray, langs: tuple[Lang, ...]
    ) -> tuple[
        np.ndarray,
        dict[str, tuple[np.ndarray, np.ndarray]],
        dict[str, np.ndarray],
        np.ndarray,
        np.ndarray,
    ]:
        """The chosen reasons as (n, slots) arrays: valid; the texts as (codes, categories);
        the numbers; the values as shown; the raw values (NaN where none or a category)."""
        valid, column, adverse, gone, size = self._select(phi, X)
        n = valid.shape[0]
        j = np.where(valid, column, 0)
        miss = (gone & valid).astype(np.int64)
        width = len(self.features)
        r = np.arange(n)[:, None]
        raw = np.where(valid & ~gone, X[r, j], np.nan)
        shown = raw.astype(object)
        for col in self._categorical_at:
            hit = valid & ~gone & (column == col)
            if hit.any():
                cats = self._category_text[col]
                shown[hit] = cats[raw[hit].astype(np.int64)]
        shown[~valid | gone] = None
        numeric_raw = np.where(self._is_categorical[j], np.nan, raw)
        # repeated texts become categoricals built from codes: no string is copied per row
        labels: dict[str, tuple[np.ndarray, np.ndarray]] = {
            "code": (miss * width + j, self._code_cats),
            "feature": (j, self._name_cats),
            "group": (self._group_code[j], self._group_cats),
            "factor": (
                np.where(miss == 1, self._thin_code, self._factor_code[j]),
                self._factor_cats,
            ),
            "direction": (np.where(adverse, 0, 1), _DIRECTION_CATS),
        }
        numbers = {
            "logodds": np.where(valid, size, np.nan),
            "points": np.where(valid, -self.points_per_logodds * size, np.nan),
        }
        words = self._texts(valid, j, adverse, gone, raw, shown, langs)
        for lang in langs:
            labels[f"text_{lang}"] = words[lang]
            cats, code_of = self._improve_cats[lang]
            # favourable reasons have no improve text: "" is the last category
            labels[f"improve_{lang}"] = (np.where(adverse, code_of[j], len(cats) - 1), cats)
        return valid, labels, numbers, shown, numeric_raw

    def explain_columns(
        self, phi: FloatArray, X: FloatArray, lang: Lang | None = None
    ) -> dict[str, Any]:
        """Reasons as flat columns ``reason_{k}_{field}`` for slots k = 1.. (adverse first,
        strongest first, then favourable; empty slots hold NaN / None): code, feature,
        group, factor, direction, logodds, points, value (as text), text_{lang},
        improve_{lang}; the texts as categoricals.

        Vectorised: each distinct (feature, direction, value) is worded once, so a batch
        costs little more than its arrays (README, reasons benchmark)."""
        langs = languages(lang)
        valid, labels, numbers, shown, numeric_raw = self._fields(phi, X, langs)
        slots = valid.shape[1]
        # one type per column, so a file can hold it: the value as text ("12.0", "fisher"),
        # each distinct number written once
        values_as_text = shown.copy()
        is_number = ~np.isnan(numeric_raw)
        if is_number.any():
            distinct, at = np.unique(numeric_raw[is_number], return_inverse=True)
            words = np.array([str(v) for v in distinct.tolist()], dtype=object)
            values_as_text[is_number] = words[at.ravel()]
        out: dict[str, Any] = {}
        for k in range(slots):
            empty = ~valid[:, k]
            for name, (codes, categories) in labels.items():
                out[f"reason_{k + 1}_{name}"] = pd.Categorical.from_codes(
                    np.where(empty, -1, codes[:, k]),
                    categories=pd.Index(categories, dtype=object),
                    validate=False,
                )
            for name, values in numbers.items():
                out[f"reason_{k + 1}_{name}"] = values[:, k]
            out[f"reason_{k + 1}_value"] = values_as_text[:, k]
        return out

    def _texts(
        self,
        valid: np.ndarray,
        j: np.ndarray,
        adverse: np.ndarray,
        gone: np.ndarray,
        raw: np.ndarray,
        shown: np.ndarray,
        langs: tuple[Lang, ...],
    ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The sentences of the chosen reasons, as (codes, distinct sentences) per language:
        each distinct (column, direction, value) is worded once (a category by its code)."""
        at = np.flatnonzero(valid.ravel())
        kind = (j.ravel()[at] * 4 + adverse.ravel()[at] * 2 + gone.ravel()[at]).astype(float)
        value = np.nan_to_num(raw.ravel()[at], nan=-1.0)  # a missing value has no number
        _, first, inverse = np.unique(kind + 1j * value, return_index=True, return_inverse=True)
        flat_shown = shown.ravel()[at]
        out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for lang in langs:
            worded = []
            for f in first.tolist():
                code = int(kind[f])
                adverse_f, missing_f = bool(code & 2), bool(code & 1)
                worded.append(self._text(code // 4, adverse_f, flat_shown[f], missing_f, lang))
            unique_codes, sentences = pd.factorize(np.array(worded, dtype=object))
            codes = np.full(valid.size, -1, dtype=np.int64)
            codes[at] = unique_codes[inverse.ravel()]
            out[lang] = (codes.reshape(valid.shape), np.asarray(sentences, dtype=object))
        return out

    def explain(
        self, phi: FloatArray, X: FloatArray, lang: Lang | None = None
    ) -> list[list[dict[str, Any]]]:
        """Reasons per row as dicts (the API's and the console's shape): adverse ones
        first (strongest first), then favourable ones; texts in ``lang`` only when given.
        Keys: code, feature, group, factor, direction, impact_logodds, impact_points,
        value, text_{lang}, improve_{lang}.

        The same selection and words as `explain_columns`; a few rows go through plain
        Python (`_explain_row`), where numpy's per-call cost would dominate (tested equal)."""
        langs = languages(lang)
        if phi.shape != X.shape or phi.shape[1] != len(self.features):
            raise ValueError(
                f"phi and X must both be (n, {len(self.features)}); got {phi.shape}, {X.shape}"
            )
        if len(phi) <= _FEW_ROWS:
            return [
                self._explain_row(p, x, langs)
                for p, x in zip(phi.tolist(), X.tolist(), strict=True)
            ]
        return self._explain_vectorised(phi, X, langs)

    def _explain_vectorised(
        self, phi: FloatArray, X: FloatArray, langs: tuple[Lang, ...]
    ) -> list[list[dict[str, Any]]]:
        valid, labels, numbers, shown, _ = self._fields(phi, X, langs)
        fields: list[tuple[str, list[list[Any]]]] = [
            (name, _decoded(codes, categories)) for name, (codes, categories) in labels.items()
        ]
        fields += [(_RENAMED[name], values.tolist()) for name, values in numbers.items()]
        fields.append(("value", shown.tolist()))
        ok = valid.tolist()
        return [
            [{key: values[i][k] for key, values in fields} for k, v in enumerate(row) if v]
            for i, row in enumerate(ok)
        ]

    def _explain_row(
        self, phi: list[float], x: list[float], langs: tuple[Lang, ...]
    ) -> list[dict[str, Any]]:
        """One row's reasons in plain Python: `_select` and `_fields` for a single row."""
        for j, h, window in self.capped_:  # as `capped_to_history`
            if x[h] < window and x[j] >= math.floor(x[h]) - 1:
                phi[h] += phi[j]
                phi[j] = 0.0
        known = [
            v == v and (ev is None or x[ev] == 1.0) for v, ev in zip(x, self.evidence_, strict=True)
        ]
        adverse: list[tuple[float, int, bool]] = []  # (impact, column, missing)
        favourable: list[tuple[float, int]] = []
        for fam in self.families_:
            members = fam.members
            total = phi[members[0]]
            for j in members[1:]:
                total += phi[j]
            if total >= self.min_impact:
                lead, missing = -1, True
                for j in members:
                    if known[j] and (lead < 0 or phi[j] > phi[lead]):
                        lead, missing = j, False
                if lead < 0:
                    for j in members:
                        if lead < 0 or phi[j] > phi[lead]:
                            lead = j
                adverse.append((total, lead, missing))
            elif total <= -self.min_impact:
                lead = -1
                for j in members:
                    if known[j] and (lead < 0 or phi[j] < phi[lead]):
                        lead = j
                if lead >= 0:
                    favourable.append((total, lead))
        # by risk factor, as `_select`: weight in family order, worded by the strongest
        weights: dict[int, float] = {}
        strongest: dict[int, tuple[float, int, bool]] = {}
        for total, lead, missing in adverse:
            fc = self._thin_code if missing else int(self._factor_code[lead])
            weights[fc] = weights.get(fc, 0.0) + total
            if fc not in strongest or total > strongest[fc][0]:
                strongest[fc] = (total, lead, missing)
        ranked = sorted(weights, key=lambda fc: (-weights[fc], fc))
        favourable.sort(key=lambda t: t[0])  # stable: ties keep the family order
        chosen = [
            (weights[f], strongest[f][1], True, strongest[f][2]) for f in ranked[: self.max_adverse]
        ]
        chosen += [(t[0], t[1], False, False) for t in favourable[: self.max_favourable]]
        out = []
        for size, j, is_adverse, missing in chosen:
            f = self.catalog[j]
            shown: Any = None
            if not missing:
                name = self.features[j]
                shown = self.categories[name][int(x[j])] if name in self.categories else x[j]
            reason: dict[str, Any] = {
                "code": f.name.upper() + ("_MISSING" if missing else ""),
                "feature": f.name,
                "group": f.group.value,
                "factor": (RiskFactor.THIN_FILE if missing else f.risk_factor).value,
                "direction": "adverse" if is_adverse else "favourable",
            }
            for lang in langs:
                reason[f"text_{lang}"] = self._text(j, is_adverse, shown, missing, lang)
                improve = f.improve_id if lang == "id" else f.improve_en
                reason[f"improve_{lang}"] = improve if is_adverse else ""
            reason["impact_logodds"] = size
            reason["impact_points"] = -self.points_per_logodds * size
            reason["value"] = shown
            out.append(reason)
        return out

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


_RENAMED = {"logodds": "impact_logodds", "points": "impact_points"}


def _decoded(codes: np.ndarray, categories: np.ndarray) -> list[list[Any]]:
    """Category codes (-1: none) as their texts, row by row."""
    out = np.full(codes.shape, None, dtype=object)
    has = codes >= 0
    out[has] = categories[codes[has]]
    return list(out.tolist())


def reason_records(columns: Mapping[str, Any] | pd.DataFrame) -> list[list[dict[str, Any]]]:
    """`ReasonWriter.explain_columns` output (or a frame holding those columns) as one list
    of reason dicts per row; empty slots are left out."""
    names = [str(c) for c in columns]
    slots = sorted(
        {int(c.split("_")[1]) for c in names if c.startswith("reason_") and c.endswith("_code")}
    )
    per_slot: list[list[tuple[str, list[Any]]]] = []
    for k in slots:
        prefix = f"reason_{k}_"
        per_slot.append(
            [
                (_RENAMED.get(c[len(prefix) :], c[len(prefix) :]), _plain(columns[c]))
                # the code first: an empty slot is one without a code
                for c in sorted((c for c in names if c.startswith(prefix)),
                                key=lambda c: c != f"{prefix}code")
            ]
        )  # fmt: skip
    n = len(columns[f"reason_{slots[0]}_code"]) if slots else 0
    out: list[list[dict[str, Any]]] = []
    for i in range(n):
        row = []
        for slot in per_slot:
            code = slot[0][1][i]
            if code is None or code != code:  # an empty slot: None, or NaN in a categorical
                break
            row.append({key: values[i] for key, values in slot})
        out.append(row)
    return out


def _plain(values: Any) -> list[Any]:
    """A column's values as Python objects (a categorical's by their text); in a column of
    text, a missing value as None (pandas keeps a None there as NaN)."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.Categorical):
        return values.astype(object).tolist()
    if pd.api.types.is_float_dtype(values.dtype):
        return list(np.asarray(values).tolist())
    return [None if isinstance(v, float) and v != v else v for v in values.tolist()]


def adverse_factors(scored: Mapping[str, Any] | pd.DataFrame) -> list[list[str]]:
    """Per row, the risk factors of the adverse reasons, strongest first."""
    return [
        [r["factor"] for r in row if r["direction"] == "adverse"] for row in reason_records(scored)
    ]


def group_by_five_c(reasons: Sequence[Mapping[str, Any]]) -> dict[str, list[Mapping[str, Any]]]:
    """Reasons under their 5C heading, headings in the officers' order, empty ones left out."""
    grouped: dict[str, list[Mapping[str, Any]]] = {c.value: [] for c in FiveC}
    for r in reasons:
        grouped[str(r["group"])].append(r)
    return {k: v for k, v in grouped.items() if v}
