"""What a member loan earns or costs the cooperative: the economics the policy's risk
cut-offs come from (DESIGN decision 6: policy is not the model).

A Koperasi Merah Putih lends money it borrowed (a Himbara loan, KUR-like, at about 6% a
year) or its members' savings, at a flat monthly rate of 1-2% (DOMAIN.md). For one loan of
principal ``P``, tenor ``n`` months and flat monthly rate ``r``:

* earned if the loan is repaid: the flat interest ``P * r * n`` plus the administration fee
  ``P * admin_fee_rate`` taken at disbursement (biaya administrasi);
* the cooperative's cost of funds: ``P * (cost_of_funds_annual / 12) * (n + 1) / 2``, its
  monthly rate on the principal still outstanding at the start of each month (an
  equal-principal schedule has ``P * (n + 1) / 2`` principal-months outstanding);
* its operating cost: ``operating_cost_per_loan`` Rupiah (appraisal, paperwork, collection
  visits);
* if the member defaults: ``loss_given_default`` of the principal is lost (after savings
  set off and the tanggung renteng group's cover) and no interest is earned; a defaulted
  loan still carries its cost of funds and its operating cost (conservative: instalments
  paid before the default are not counted).

The model's PD is the chance of going more than 90 days past due within 12 months of
disbursement (DESIGN decision 3). A loan longer than 12 months is exposed longer: its
lifetime default probability is taken as ``1 - (1 - PD) ** (n / 12)``, a constant hazard;
a loan of 12 months or less keeps the 12-month PD (the label's window runs past its end).

Expected return = ``(1 - q) * (interest + fee) - q * LGD * P - funding - operating`` for
lifetime default probability ``q``. It falls linearly in ``q``, so for each loan there is
one PD at which it earns a given return per Rupiah lent: `pd_for_return`. The policy
approves by risk below the PD at which the loan earns ``approve_min_return`` per Rupiah
(it pays its way), declines above the PD at which it loses more than
``decline_below_return`` per Rupiah, and refers the band between to an officer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from models.stored_fields import exact_field_names

__all__ = [
    "LendingEconomics",
    "expected_return",
    "lifetime_pd",
    "pd_for_return",
    "policy_position",
    "realised_return",
    "strategy_curve",
]

Floats = npt.NDArray[np.float64]
PD_HORIZON_MONTHS = 12


def _invalid(name: str, must: str, value: object) -> ValueError:
    return ValueError(
        f"The {name!r} parameter of LendingEconomics must be {must}; got {value!r} instead."
    )


@dataclass(frozen=True)
class LendingEconomics:
    """The cooperative's lending economics (all configurable, stored with the policy).

    Parameters
    ----------
    loss_given_default:
        Share of the principal lost when a loan defaults, in [0, 1].
    cost_of_funds_annual:
        The cooperative's own borrowing rate a year (a Himbara loan at 6%), >= 0.
    operating_cost_per_loan:
        Rupiah per loan for appraisal, administration and collection, >= 0.
    admin_fee_rate:
        Administration fee taken at disbursement, as a share of the principal, >= 0.
    approve_min_return:
        Expected return per Rupiah lent at or above which the risk is approved (0: the loan
        pays its way).
    decline_below_return:
        Expected return per Rupiah lent below which the risk is declined; between the two
        the application is referred. At most ``approve_min_return``.
    reference_amount, reference_tenor_months, reference_flat_rate:
        The loan whose economics judge a score-only request (no amount, tenor or rate).
    """

    loss_given_default: float = 0.75
    cost_of_funds_annual: float = 0.06
    operating_cost_per_loan: int = 50_000
    admin_fee_rate: float = 0.01
    approve_min_return: float = 0.0
    decline_below_return: float = -0.03
    reference_amount: int = 5_000_000
    reference_tenor_months: int = 12
    reference_flat_rate: float = 0.015

    def __post_init__(self) -> None:
        if not 0 <= self.loss_given_default <= 1:
            raise _invalid("loss_given_default", "in [0, 1]", self.loss_given_default)
        for name in ("cost_of_funds_annual", "admin_fee_rate", "reference_flat_rate"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value < 1):
                raise _invalid(name, "in [0, 1)", value)
        for name in ("operating_cost_per_loan", "reference_amount", "reference_tenor_months"):
            value = getattr(self, name)
            low = 0 if name == "operating_cost_per_loan" else 1
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise _invalid(name, f"an int >= {low}", value)
        if not (-1 < self.decline_below_return <= self.approve_min_return < 1):
            raise ValueError(
                "The 'decline_below_return' and 'approve_min_return' parameters of "
                "LendingEconomics must satisfy -1 < decline_below_return <= "
                f"approve_min_return < 1; got {self.decline_below_return!r} and "
                f"{self.approve_min_return!r} instead."
            )

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LendingEconomics:
        """Every field required: a stored policy never takes a newer default."""
        exact_field_names(cls, data)
        ints = {"operating_cost_per_loan", "reference_amount", "reference_tenor_months"}
        values: dict[str, Any] = {k: int(v) if k in ints else float(v) for k, v in data.items()}
        return cls(**values)


def lifetime_pd(pd_: npt.ArrayLike, tenor_months: npt.ArrayLike) -> Floats:
    """Chance of default over the loan's life from the 12-month PD (module docstring)."""
    p = np.asarray(pd_, dtype=np.float64)
    exposure = np.maximum(np.asarray(tenor_months, dtype=np.float64), PD_HORIZON_MONTHS)
    return np.asarray(1.0 - (1.0 - p) ** (exposure / PD_HORIZON_MONTHS), dtype=np.float64)


def _parts(
    principal: Floats, tenor: Floats, rate: Floats, econ: LendingEconomics
) -> tuple[Floats, Floats]:
    """(earned if repaid, cost either way) in Rupiah."""
    earned = principal * (rate * tenor + econ.admin_fee_rate)
    funding = principal * econ.cost_of_funds_annual / 12.0 * (tenor + 1.0) / 2.0
    return earned, funding + econ.operating_cost_per_loan


def expected_return(
    pd_: npt.ArrayLike,
    principal: npt.ArrayLike,
    tenor_months: npt.ArrayLike,
    flat_monthly_rate: npt.ArrayLike,
    econ: LendingEconomics,
) -> Floats:
    """Expected Rupiah the cooperative earns on each loan (negative: it loses)."""
    p, t, r = (
        np.asarray(a, dtype=np.float64) for a in (principal, tenor_months, flat_monthly_rate)
    )
    q = lifetime_pd(pd_, t)
    earned, cost = _parts(p, t, r, econ)
    return np.asarray((1 - q) * earned - q * econ.loss_given_default * p - cost, dtype=np.float64)


def realised_return(
    defaulted: npt.ArrayLike,
    principal: npt.ArrayLike,
    tenor_months: npt.ArrayLike,
    flat_monthly_rate: npt.ArrayLike,
    econ: LendingEconomics,
) -> Floats:
    """What each loan earned with its observed outcome (1 = defaulted), on the same terms."""
    return expected_return(defaulted, principal, tenor_months, flat_monthly_rate, econ)


def pd_for_return(
    min_return: float,
    principal: npt.ArrayLike,
    tenor_months: npt.ArrayLike,
    flat_monthly_rate: npt.ArrayLike,
    econ: LendingEconomics,
) -> Floats:
    """The 12-month PD at which each loan is expected to earn ``min_return`` per Rupiah
    lent; a loan earns more below it. Negative where no PD earns that much (the loan's
    interest cannot cover its costs), above 1 where every PD does (NaN without terms)."""
    p, t, r = (
        np.asarray(a, dtype=np.float64) for a in (principal, tenor_months, flat_monthly_rate)
    )
    earned, cost = _parts(p, t, r, econ)
    with np.errstate(invalid="ignore", divide="ignore"):
        q = (earned - cost - min_return * p) / (earned + econ.loss_given_default * p)
        exposure = np.maximum(t, PD_HORIZON_MONTHS) / PD_HORIZON_MONTHS
        # invert lifetime_pd where q is a probability; keep q's sign and excess outside
        inside = 1.0 - (1.0 - np.clip(q, 0.0, 1.0)) ** (1.0 / exposure)
    return np.asarray(np.where((q > 0) & (q < 1), inside, q), dtype=np.float64)


def strategy_curve(
    pd_: npt.ArrayLike,
    defaulted: npt.ArrayLike,
    principal: npt.ArrayLike,
    tenor_months: npt.ArrayLike,
    flat_monthly_rate: npt.ArrayLike,
    econ: LendingEconomics,
    points: int = 20,
) -> pd.DataFrame:
    """Approving the safest share of applications, for shares 1/points .. 1: the PD
    cut-off, the observed default rate among the approved, and their expected and
    realised return (Rupiah, total and per Rupiah lent). The trade-off a cooperative's
    board reads to see where its policy sits."""
    p = np.asarray(pd_, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    y = np.asarray(defaulted, dtype=np.float64)[order]
    amount, tenor, rate = (
        np.asarray(a, dtype=np.float64)[order] for a in (principal, tenor_months, flat_monthly_rate)
    )
    expected = np.cumsum(expected_return(p[order], amount, tenor, rate, econ))
    realised = np.cumsum(realised_return(y, amount, tenor, rate, econ))
    lent = np.cumsum(amount)
    bad = np.cumsum(y)
    n = len(p)
    rows = []
    for share in np.linspace(1.0 / points, 1.0, points):
        k = max(round(share * n), 1) if n else 0
        if k == 0:
            break
        rows.append(
            {
                "approval_rate": k / n,
                "pd_cut_off": float(p[order][k - 1]),
                "default_rate": float(bad[k - 1] / k),
                "expected_return": float(expected[k - 1]),
                "expected_return_per_rupiah": float(expected[k - 1] / lent[k - 1]),
                "realised_return": float(realised[k - 1]),
                "realised_return_per_rupiah": float(realised[k - 1] / lent[k - 1]),
            }
        )
    return pd.DataFrame(rows)


def policy_position(
    approved: npt.ArrayLike,
    pd_: npt.ArrayLike,
    defaulted: npt.ArrayLike,
    principal: npt.ArrayLike,
    tenor_months: npt.ArrayLike,
    flat_monthly_rate: npt.ArrayLike,
    econ: LendingEconomics,
) -> dict[str, float]:
    """Where a set of decisions sits on the strategy curve: its approval rate, the
    observed default rate among the approved, and their expected and realised return
    (Rupiah: total, per approved loan and per Rupiah lent; NaN without approvals)."""
    a = np.asarray(approved, dtype=bool)
    terms = [
        np.asarray(x, dtype=np.float64)[a] for x in (principal, tenor_months, flat_monthly_rate)
    ]
    amount, tenor, rate = terms
    y = np.asarray(defaulted, dtype=np.float64)[a]
    expected = expected_return(np.asarray(pd_, dtype=np.float64)[a], amount, tenor, rate, econ)
    realised = realised_return(y, amount, tenor, rate, econ)
    k, lent = int(a.sum()), float(amount.sum())
    nan = float("nan")
    return {
        "approval_rate": float(a.mean()) if len(a) else nan,
        "approved": float(k),
        "default_rate": float(y.mean()) if k else nan,
        "expected_return": float(expected.sum()),
        "expected_return_per_loan": float(expected.mean()) if k else nan,
        "expected_return_per_rupiah": float(expected.sum() / lent) if lent else nan,
        "realised_return": float(realised.sum()),
        "realised_return_per_loan": float(realised.mean()) if k else nan,
        "realised_return_per_rupiah": float(realised.sum() / lent) if lent else nan,
    }
