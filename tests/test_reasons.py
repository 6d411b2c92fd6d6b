"""ReasonWriter on controlled attributions: ranking, families, honest handling of missing
data, points, wording in the member's own values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from features.catalog import CATALOG, RiskFactor, feature, reason_text
from models.reasons import ReasonWriter, group_by_five_c

NAMES = [f.name for f in CATALOG]
CATEGORIES = {
    f.name: ["1", "2", "3"] if f.unit == "month_of_year" else ["a", "b", "c"]
    for f in CATALOG
    if f.dtype == "category"
}
FACTOR = 20 / math.log(2)


def _writer(**kwargs: float) -> ReasonWriter:
    return ReasonWriter(CATALOG, NAMES, CATEGORIES, FACTOR, **kwargs)  # type: ignore[arg-type]


def _row() -> np.ndarray:
    """A member with a value for every feature (evidence flags set), a member for longer
    than any window (no count is capped by her membership)."""
    X = np.ones((1, len(NAMES)))
    for j, f in enumerate(CATALOG):
        if f.dtype == "category":
            X[0, j] = 0.0
    X[0, _col("membership_months")] = 36.0
    return X


def _col(name: str) -> int:
    return NAMES.index(name)


def _solo(factor: RiskFactor | None = None) -> list[str]:
    """Features alone in their family, optionally of one risk factor."""
    counts: dict[str, int] = {}
    for f in CATALOG:
        counts[f.family] = counts.get(f.family, 0) + 1
    return [
        f.name
        for f in CATALOG
        if counts[f.family] == 1
        and f.evidence is None
        and (factor is None or f.risk_factor == factor)
        and f.dtype == "float"
    ]


def _one_per_factor() -> list[str]:
    """Lone features of distinct risk factors (not thin file)."""
    seen: dict[RiskFactor, str] = {}
    for name in _solo():
        factor = feature(name).risk_factor
        if factor is not RiskFactor.THIN_FILE and factor not in seen:
            seen[factor] = name
    return list(seen.values())


def test_at_most_four_adverse_and_two_favourable_strongest_first() -> None:
    distinct = _one_per_factor()
    assert len(distinct) >= 6
    X, phi = _row(), np.zeros((1, len(NAMES)))
    for k, name in enumerate(distinct[:6]):
        phi[0, _col(name)] = 0.1 * (k + 1)  # adverse, growing, one per risk factor
    favourable_names = [n for n in _solo() if n not in distinct[:6]][:4]
    for k, name in enumerate(favourable_names):
        phi[0, _col(name)] = -0.05 * (k + 1)
    reasons = _writer().explain(phi, X)[0]
    adverse = [r for r in reasons if r["direction"] == "adverse"]
    favourable = [r for r in reasons if r["direction"] == "favourable"]
    assert len(adverse) == 4 and len(favourable) == 2
    assert reasons[:4] == adverse  # adverse first
    assert [r["feature"] for r in adverse] == distinct[5:1:-1]
    assert [r["feature"] for r in favourable] == [favourable_names[3], favourable_names[2]]
    impacts = [r["impact_logodds"] for r in adverse]
    assert impacts == sorted(impacts, reverse=True)


def test_an_adverse_reason_speaks_for_its_risk_factor() -> None:
    """Two adverse families of one risk factor make one reason: worded by the stronger,
    weighing both; a weaker factor with a single stronger family still ranks by weight."""
    families: dict[str, int] = {}
    for f in CATALOG:
        families[f.family] = families.get(f.family, 0) + 1
    discipline = [  # lone families; the row's evidence flags are all 1
        f.name
        for f in CATALOG
        if f.risk_factor is RiskFactor.REPAYMENT_DISCIPLINE and families[f.family] == 1
    ]
    other = next(n for n in _one_per_factor() if feature(n).risk_factor is not
                 RiskFactor.REPAYMENT_DISCIPLINE)  # fmt: skip
    X, phi = _row(), np.zeros((1, len(NAMES)))
    phi[0, _col(discipline[0])] = 0.2
    phi[0, _col(discipline[1])] = 0.3
    phi[0, _col(other)] = 0.4  # stronger than either, weaker than both together
    reasons = _writer().explain(phi, X)[0]
    assert [r["feature"] for r in reasons] == [discipline[1], other]
    assert reasons[0]["impact_logodds"] == pytest.approx(0.5)
    assert reasons[0]["factor"] == RiskFactor.REPAYMENT_DISCIPLINE.value
    assert reasons[0]["text_en"] == reason_text(feature(discipline[1]), 1.0, True, "en")


def test_impact_in_points_is_minus_factor_times_log_odds() -> None:
    name = _solo()[0]
    X, phi = _row(), np.zeros((1, len(NAMES)))
    phi[0, _col(name)] = 0.3
    (reason,) = _writer().explain(phi, X)[0]
    assert reason["impact_logodds"] == pytest.approx(0.3)
    assert reason["impact_points"] == pytest.approx(-0.3 * FACTOR)
    assert reason["code"] == name.upper()
    assert reason["group"] == feature(name).group.value
    assert reason["factor"] == feature(name).risk_factor.value


def test_small_impacts_give_no_reason() -> None:
    X, phi = _row(), np.full((1, len(NAMES)), 0.001)
    assert _writer(min_impact=0.02).explain(phi, X) == [[]]


def test_a_family_makes_one_reason_worded_by_its_strongest_member() -> None:
    families: dict[str, list[str]] = {}
    for f in CATALOG:
        if f.evidence is None and f.dtype == "float":
            families.setdefault(f.family, []).append(f.name)
    members = next(v for v in families.values() if len(v) >= 2)
    X, phi = _row(), np.zeros((1, len(NAMES)))
    X[0, _col(members[1])] = 3.0
    phi[0, _col(members[0])] = 0.1
    phi[0, _col(members[1])] = 0.2
    (reason,) = _writer().explain(phi, X)[0]
    assert reason["feature"] == members[1]
    assert reason["impact_logodds"] == pytest.approx(0.3)
    assert reason["value"] == 3.0
    assert reason["text_id"] == reason_text(feature(members[1]), 3.0, True, "id")
    assert reason["text_en"] == reason_text(feature(members[1]), 3.0, True, "en")


def test_missing_data_never_gives_a_favourable_reason_and_an_adverse_one_says_what_is_missing() -> (
    None
):
    name = _solo()[0]
    X, phi = _row(), np.zeros((1, len(NAMES)))
    X[0, _col(name)] = np.nan
    phi[0, _col(name)] = -0.4
    assert _writer().explain(phi, X) == [[]]
    phi[0, _col(name)] = 0.4
    (reason,) = _writer().explain(phi, X)[0]
    assert reason["code"] == name.upper() + "_MISSING"
    assert reason["factor"] == RiskFactor.THIN_FILE.value
    assert reason["value"] is None
    assert reason["text_id"] == feature(name).missing_id
    assert reason["text_en"] == feature(name).missing_en
    assert reason["improve_id"] == feature(name).improve_id


def test_a_value_without_its_evidence_is_treated_as_missing() -> None:
    with_evidence = [f for f in CATALOG if f.evidence is not None]
    assert with_evidence, "the catalog declares evidence flags (instalment history, group)"
    f = with_evidence[0]
    X, phi = _row(), np.zeros((1, len(NAMES)))
    X[0, _col(f.name)] = 0.0  # "0 late instalments" ...
    X[0, _col(str(f.evidence))] = 0.0  # ... of a member who never borrowed
    phi[0, _col(f.name)] = -0.5
    assert [r for r in _writer().explain(phi, X)[0] if r["feature"] == f.name] == []
    X[0, _col(str(f.evidence))] = 1.0
    (reason,) = [r for r in _writer().explain(phi, X)[0] if r["feature"] == f.name]
    assert reason["direction"] == "favourable" and reason["improve_id"] == ""


def test_categorical_values_are_shown_as_their_text() -> None:
    cat = next(f for f in CATALOG if f.unit == "category")
    X, phi = _row(), np.zeros((1, len(NAMES)))
    X[0, _col(cat.name)] = 2.0
    phi[0, _col(cat.name)] = 0.5
    (reason,) = [r for r in _writer().explain(phi, X)[0] if r["feature"] == cat.name]
    assert reason["value"] == "c"


def test_one_language_only_when_asked() -> None:
    name = _solo()[0]
    X, phi = _row(), np.zeros((1, len(NAMES)))
    phi[0, _col(name)] = 0.3
    (reason,) = _writer().explain(phi, X, lang="id")[0]
    assert "text_id" in reason and "text_en" not in reason and "improve_en" not in reason


def test_rupiah_values_read_the_indonesian_way() -> None:
    rupiah = next(f for f in CATALOG if f.unit == "rupiah" and f.evidence is None)
    X, phi = _row(), np.zeros((1, len(NAMES)))
    X[0, _col(rupiah.name)] = 1_250_000
    phi[0, _col(rupiah.name)] = 0.3 if rupiah.monotone >= 0 else -0.3
    reasons = [r for r in _writer().explain(phi, X)[0] if r["feature"] == rupiah.name]
    assert reasons and "Rp 1.250.000" in reasons[0]["text_id"]


def test_refuses_mismatched_shapes_and_unknown_features() -> None:
    with pytest.raises(ValueError, match="phi and X"):
        _writer().explain(np.zeros((1, 3)), np.zeros((1, 3)))
    with pytest.raises(ValueError, match="without a catalog entry: nope"):
        ReasonWriter(CATALOG, ["nope"], {}, FACTOR)


def test_grouped_by_five_c_in_the_officers_order() -> None:
    reasons = [{"group": "capacity"}, {"group": "character"}, {"group": "capacity"}]
    grouped = group_by_five_c(reasons)
    assert list(grouped) == ["character", "capacity"]
    assert len(grouped["capacity"]) == 2


def _capped_member(months: float, paid: float) -> tuple[np.ndarray, np.ndarray]:
    """A member of `months` months whose wajib count over 12 months is `paid` and costs her
    0.3 log-odds (the typical member paid 12 of 12); her share of months paid is 1."""
    X, phi = _row(), np.zeros((1, len(NAMES)))
    X[0, _col("membership_months")] = months
    X[0, _col("months_of_history")] = months
    X[0, _col("wajib_months_paid_12m")] = paid
    phi[0, _col("wajib_months_paid_12m")] = 0.3
    return X, phi


def _explained_both_ways(phi: np.ndarray, X: np.ndarray) -> list[dict[str, object]]:
    """One row's reasons, from the plain-Python path and (checked equal) the vectorised one."""
    single = _writer().explain(phi, X)[0]
    assert _writer().explain(np.repeat(phi, 9, axis=0), np.repeat(X, 9, axis=0))[0] == single
    return single


def test_the_catalog_caps_the_counts_of_months_since_joining_by_the_membership() -> None:
    capped = {f.name: (f.capped_by, f.window_months) for f in CATALOG if f.capped_by}
    assert capped == {
        "wajib_months_paid_12m": ("membership_months", 12),
        "longest_wajib_streak_24m": ("membership_months", 24),
        "months_with_sales_12m": ("membership_months", 12),
    }
    assert [NAMES[j] for j, _, _ in _writer().capped_] == list(capped)


def test_a_count_capped_by_a_short_membership_speaks_for_the_thin_file() -> None:
    """Paid every month of her 4 since joining: "wajib paid only 4 of the last 12 months" is
    not her discipline, it is how new she is; worded by her membership."""
    X, phi = _capped_member(4.5, 4.0)
    (reason,) = _explained_both_ways(phi, X)
    assert reason["feature"] == "membership_months"
    assert reason["factor"] == RiskFactor.THIN_FILE.value
    assert reason["impact_logodds"] == pytest.approx(0.3)  # the count's contribution, whole
    assert reason["text_id"] == reason_text(feature("membership_months"), 4.5, True, "id")
    assert "12 bulan" not in reason["text_id"]
    # the partial joining month aside: 3 whole months after the joining month, all paid
    X, phi = _capped_member(4.9, 3.0)
    assert _explained_both_ways(phi, X)[0]["feature"] == "membership_months"


@pytest.mark.parametrize(
    ("months", "paid"),
    [
        (36.0, 4.0),  # a member for longer than the window: her count is her discipline
        (12.0, 4.0),  # a member for the whole window
        (9.5, 4.0),  # months missed since joining: the count is not capped
        (np.nan, 4.0),  # her membership unknown
    ],
)
def test_a_count_not_capped_by_the_membership_keeps_its_own_reason(
    months: float, paid: float
) -> None:
    X, phi = _capped_member(months, paid)
    (reason,) = _explained_both_ways(phi, X)
    assert reason["feature"] == "wajib_months_paid_12m"
    assert reason["factor"] == RiskFactor.REPAYMENT_DISCIPLINE.value


def test_moving_a_capped_count_keeps_the_rows_sum_and_leaves_phi_alone() -> None:
    X, phi = _capped_member(4.5, 4.0)
    X = np.vstack([X, _capped_member(36.0, 4.0)[0]])
    phi = np.vstack([phi, phi])
    phi[:, _col("membership_months")] = 0.05
    before = phi.copy()
    moved = _writer().capped_to_history(phi, X)
    np.testing.assert_array_equal(phi, before)  # the attribution itself is not changed
    np.testing.assert_allclose(moved.sum(axis=1), phi.sum(axis=1), rtol=0, atol=1e-15)
    assert moved[0, _col("wajib_months_paid_12m")] == 0.0
    assert moved[0, _col("membership_months")] == pytest.approx(0.35)
    np.testing.assert_array_equal(moved[1], phi[1])  # a long-standing member: unchanged


def test_capped_counts_are_moved_alike_for_one_row_and_for_a_batch() -> None:
    """The plain-Python path of a few rows and the vectorised one choose the same reasons."""
    rng = np.random.default_rng(3)
    X = np.repeat(_row(), 40, axis=0)
    months = rng.choice([0.5, 2.0, 4.5, 7.9, 11.5, 13.0, 30.0, np.nan], 40)
    X[:, _col("membership_months")] = months
    X[:, _col("months_of_history")] = months
    for name in ("wajib_months_paid_12m", "longest_wajib_streak_24m", "months_with_sales_12m"):
        X[:, _col(name)] = np.floor(np.nan_to_num(months)) - rng.integers(0, 3, 40)
    phi = rng.normal(0.0, 0.2, X.shape)
    writer = _writer()
    batch = writer.explain(phi, X)
    single = [writer.explain(phi[i : i + 1], X[i : i + 1])[0] for i in range(len(X))]
    assert batch == single
    assert any(r["feature"] == "membership_months" for row in batch for r in row)
