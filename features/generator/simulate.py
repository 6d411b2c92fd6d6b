"""Month-by-month simulation of one cooperative's ledger from its members' latent traits.

The ledger never shows the latents (payment discipline, income level and volatility,
seasonality, shocks, group quality); it shows what they cause. Default is drawn from a
discrete-time hazard whose expectation is known at application, so the oracle's PD is
exact, not estimated:

    stop at instalment k with probability h_k = E[sigmoid(x_k + shock_k * SHOCK_LOGIT)]
    x_k = base + profile offset - discipline + affordability in the month k falls due
          + volatility + group arrears at application + thin file + city conditions
          + past default + past due at application
    PD_12m = 1 - prod_k (1 - h_k) over instalments whose 91st day past due falls within
             365 days of disbursement (the default label: > 90 DPD within 12 months).

Affordability counts every instalment the member owes in that month: a second loan taken
while one runs (a top-up) carries both. A member who stops paying a loan never pays it
again (a third repay the balance 4 to 13 months later). Every other loan is paid to the end,
each instalment late by at most 75 days, so it is never more than 90 days past due: the label
and the simulated truth agree by construction. Each loan's stop is drawn from its own
hazard, so its oracle PD is exact; instalments of a member's two loans due in the same month
share one uniform draw, so she tends to stop both together without either loan's chance
changing.

Who applies follows what the member owes the cooperative (`apply_propensity`): members
with a loan running, behind on one, or who defaulted before ask too, and the cooperative's
screen (`screen_logit`) turns most of the last two down on what it sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from features.generator.declarations import Declarations, declare
from features.generator.economy import (
    PROFILE_RISK_OFFSET,
    PROFILE_SECTOR_MIX,
    SECTOR_ORDER,
    SECTORS,
    seasonality,
)
from features.generator.ids import make_ids, make_names, make_nik_hashes
from features.generator.places import Place
from features.labels import DEFAULT_DPD, DEFAULT_WINDOW_DAYS, window_closed
from features.ledger.contracts import DATE_DTYPE
from features.ledger.enums import (
    Direction,
    Gender,
    LabelledEnum,
    LoanProduct,
    LoanPurpose,
    LoanStatus,
    PaymentMethod,
    SavingsKind,
)
from features.ledger.rates import effective_annual_rate

# numpy's dtype-level typing adds noise without catching bugs in array code like this
IntArray = npt.NDArray[Any]
FloatArray = npt.NDArray[Any]
BoolArray = npt.NDArray[Any]

EXTRA_MONTHS = 72  # schedules and expected incomes run past the horizon
MAX_LATE_DAYS = 75  # paying members are never more than this late on any instalment
NO_STOP = 10**6  # stop instalment of a loan that is paid to the end

# Hazard of stopping payment (log-odds per instalment) -- see the module docstring.
HAZARD_BASE = -5.3
DISCIPLINE_LOGIT = 0.95
AFFORDABILITY_LOGIT = 1.0
AFFORDABILITY_REF = float(np.log(0.15))
SEASON_LOGIT = 1.3
CITY_LOGIT = 1.5
VOLATILITY_LOGIT = 2.5
VOLATILITY_REF = 0.25
GROUP_ARREARS_LOGIT = 3.0
THIN_FILE_LOGIT = 0.5
THIN_FILE_MONTHS = 6
SHOCK_ONSET_PROB = 0.012
SHOCK_LOGIT = 2.0
SHOCK_INCOME_FACTOR = 0.45
SHOCK_MONTHS = 3
# How discipline shows in the ledger, per unit of discipline: the log-odds of paying wajib
# in a month, how early in the month it is paid (exponent of the day's skew), the log-odds of
# paying an instalment late, and of buying at the store on credit (kasbon). Character shows
# in everything a member does at the cooperative; with weaker channels (1.1, 0.5, 1.1 and
# none) the ledger hid the main driver of default and the best model reached 88-90% of the
# oracle's AUC, with these 93-96% (three seeds; README).
WAJIB_DISCIPLINE_LOGIT = 1.6
WAJIB_DAY_DISCIPLINE = 1.6
LATE_DISCIPLINE_LOGIT = 1.6
CREDIT_DISCIPLINE_LOGIT = 1.5

# Beyond the latents, at application: a member who defaulted before has less left to lose
# (her name at the cooperative is already spent), and one behind on a loan today is short of
# cash now and often borrows to pay ("gali lubang tutup lubang"). Both raise the hazard of a
# new loan. On the demo ledger the true PD of a loan to a past defaulter (after the screen)
# averages 26% and to a member past due 29%, odds 4.4 and 5.1 times those of other loans
# (7.4%): assumptions, set so that a second chance is a much worse risk than a first one.
# In the oracle both count in the discipline driver: the catalog files prior defaults and
# days past due under repayment discipline too.
PAST_DEFAULT_LOGIT = 0.7
PAST_DUE_LOGIT = 1.0

# Monthly chance that a member asks for a loan (`apply_propensity`). Without a loan: 5%, 11%
# ahead of a turn of her season. With one running (at most two at once, the second not
# within TOPUP_AFTER_MONTHS of the last): 1.5% while she pays on time, 4% while she is
# behind. After a default, not within DEFAULT_WAIT_MONTHS of the stop: 3% once the balance
# is repaid, 1% while she still owes it. Assumptions of the generator, not statistics: a
# top-up is rarer than a first loan, distress raises the ask, and a defaulter comes back
# less often than others but does come back.
APPLY_BASE = 0.05
APPLY_SEASONAL = 0.06
APPLY_TOPUP = 0.015
APPLY_TOPUP_PAST_DUE = 0.04
APPLY_AFTER_DEFAULT = 0.03
APPLY_AFTER_DEFAULT_OWING = 0.01
TOPUP_AFTER_MONTHS = 3
DEFAULT_WAIT_MONTHS = 6
MAX_OPEN_LOANS = 2

# The cooperative's screen (`screen_logit`, log-odds of rejecting) uses only what it sees:
# wajib months owed, a loan more than 30 days late or stopped, an instalment past due today
# and a past default (a loan more than 90 days past due). Most cooperatives will not lend
# again after a default; some (SCREEN_LENIENT_SHARE of them, drawn per cooperative) do once
# the member has repaid. On the demo ledger 87% of the applicants who are past due or
# defaulted before are turned down (99% of those who still owe a defaulted loan), against
# 13% of the others.
SCREEN_BASE = -2.8
SCREEN_WAJIB_OWED = 0.6
SCREEN_LAST_LOAN_LATE = 1.5
SCREEN_PAST_DUE = 3.5
SCREEN_PAST_DEFAULT = 3.0
SCREEN_PAST_DEFAULT_LENIENT = 0.5
SCREEN_LENIENT_SHARE = 0.3
NEVER_DAY = 2**40  # a past-due spell that never ends (a stopped loan never repaid)

# Names of the true drivers, in the words of the feature catalog (features issue).
TRUE_DRIVERS: dict[str, str] = {
    "discipline": "share_instalments_on_time_12m",
    "affordability": "instalment_to_income",
    "seasonality": "seasonal_dip_depth",
    "volatility": "sales_volatility_6m",
    "group": "group_members_in_arrears",
    "thin_file": "months_of_history",
    "city": "coop_arrears_rate_3m",
}


def sigmoid(x: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def apply_propensity(
    n_open: IntArray,
    months_since_disbursed: IntArray,
    past_due: BoolArray,
    months_since_stop: IntArray,
    owes_default: BoolArray,
    seasonal_need: BoolArray,
) -> FloatArray:
    """Monthly chance of asking for a loan, from what the member owes the cooperative now.

    `months_since_stop` is negative for a member who never stopped paying; `n_open` counts
    the loans whose schedules still run (one at most two may hold).
    """
    first = APPLY_BASE + APPLY_SEASONAL * seasonal_need
    top_up = np.where(past_due, APPLY_TOPUP_PAST_DUE, APPLY_TOPUP)
    top_up = np.where(months_since_disbursed >= TOPUP_AFTER_MONTHS, top_up, 0.0)
    p = np.where(n_open == 0, first, top_up)
    again = np.where(owes_default, APPLY_AFTER_DEFAULT_OWING, APPLY_AFTER_DEFAULT)
    again = np.where(months_since_stop >= DEFAULT_WAIT_MONTHS, again, 0.0)
    p = np.where(months_since_stop >= 0, again, p)
    return np.asarray(np.where(n_open >= MAX_OPEN_LOANS, 0.0, p), dtype=np.float64)


def screen_logit(
    wajib_owed: IntArray,
    last_loan_late: BoolArray,
    past_due: BoolArray,
    past_default: BoolArray,
    past_default_weight: float,
) -> FloatArray:
    """Log-odds that the cooperative rejects an application, from what it can see."""
    return np.asarray(
        SCREEN_BASE
        + SCREEN_WAJIB_OWED * wajib_owed
        + SCREEN_LAST_LOAN_LATE * last_loan_late
        + SCREEN_PAST_DUE * past_due
        + past_default_weight * past_default,
        dtype=np.float64,
    )


@dataclass(frozen=True)
class Horizon:
    """Calendar of a simulation: month t starts on `month_start[t]` (days since epoch)."""

    start: np.datetime64  # first month, unit M
    months: int

    @property
    def all_months(self) -> npt.NDArray[np.datetime64]:
        return self.start + np.arange(self.months + EXTRA_MONTHS)

    @property
    def month_start(self) -> IntArray:
        return self.all_months.astype("datetime64[D]").astype(np.int64)

    @property
    def month_len(self) -> IntArray:
        starts = self.all_months.astype("datetime64[D]")
        ends = (self.all_months + 1).astype("datetime64[D]")
        return np.asarray((ends - starts).astype(np.int64))

    @property
    def end_day(self) -> int:
        """Last day of the horizon (days since epoch); nothing dated later is recorded."""
        return int((self.start + self.months).astype("datetime64[D]").astype(np.int64)) - 1


class _Events:
    """Columns of one event table, collected month by month and concatenated once."""

    def __init__(self) -> None:
        self.cols: dict[str, list[npt.NDArray[Any]]] = {}

    def add(self, **columns: npt.NDArray[Any]) -> None:
        for name, values in columns.items():
            self.cols.setdefault(name, []).append(np.asarray(values))

    def get(self, name: str) -> npt.NDArray[Any]:
        parts = self.cols.get(name)
        return np.concatenate(parts) if parts else np.array([], dtype=np.int64)


@dataclass
class CoopSimulation:
    """The ledger tables of one cooperative plus its oracle (never read by features):
    disbursed loans' true PD, members' latents, and every application's true income and
    household expenses beside what was declared (`declarations.py`)."""

    tables: dict[str, pd.DataFrame]
    oracle_loans: pd.DataFrame
    oracle_members: pd.DataFrame
    oracle_applications: pd.DataFrame


@dataclass
class _Members:
    sector: IntArray
    female: BoolArray
    join_month: IntArray
    join_day: IntArray
    group_of: IntArray
    group_size: IntArray
    discipline: FloatArray
    level: FloatArray
    volatility: FloatArray
    coop_share: FloatArray
    save_propensity: FloatArray


@dataclass
class _State:
    """What carries from one month to the next."""

    owed_wajib: BoolArray
    sukarela: IntArray
    # a member holds at most two loans: the one whose schedule ends last ("busy") and the
    # other; each with the month of its last instalment (-1: none) and its instalment
    busy_until: IntArray
    busy_amount: IntArray
    other_until: IntArray
    last_disbursed: IntArray  # month of the latest disbursement
    # due day of the instalment at which she last stopped paying a loan (-1: never), and of
    # the stop before it: one due later this month is not yet missed on an earlier day
    stop_day: IntArray
    earlier_stop_day: IntArray
    # the current spell past due: instalments due after `past_due_from` unpaid until
    # `past_due_until` (a day; NEVER_DAY for a stopped loan never repaid)
    past_due_from: IntArray
    past_due_until: IntArray
    arrears_until: IntArray  # more than 30 days past due up to this month
    last_loan_late: BoolArray  # a loan more than 30 days late, or stopped
    n_loans: int = 0
    due: dict[int, list[dict[str, npt.NDArray[Any]]]] = field(default_factory=dict)


@dataclass(frozen=True)
class _NewLoans:
    """Loans disbursed this month, one entry per loan, with the member's standing at
    application (a past default, an instalment past due)."""

    loan: IntArray
    member: IntArray
    tenor: IntArray
    principal: IntArray
    rate: FloatArray
    disb_day: IntArray
    past_default: BoolArray
    past_due: BoolArray


def _effective_rates(rate: FloatArray, tenor: IntArray) -> FloatArray:
    """`effective_annual_rate` of each loan, solved once per distinct (rate, tenor) pair: a
    cooperative's loans share a dozen, and solving them month by month took a tenth of the
    generator's time."""
    if len(rate) == 0:
        return np.array([], dtype=np.float64)
    pairs, back = np.unique(np.column_stack([rate, tenor]), axis=0, return_inverse=True)
    eff = effective_annual_rate(pairs[:, 0], pairs[:, 1].astype(np.int64))
    return np.asarray(eff[back.ravel()], dtype=np.float64)


def _uniform_day(rng: np.random.Generator, start: IntArray, length: IntArray) -> IntArray:
    return np.asarray(start + np.floor(rng.random(len(start)) * length).astype(np.int64))


def _groups(
    rng: np.random.Generator, join_month: IntArray, in_group: BoolArray
) -> tuple[IntArray, IntArray]:
    """Tanggung renteng groups of 5-25 formed among members who joined around the same time.

    Returns the group index of each member (-1 when none) and each group's size.
    """
    members = np.flatnonzero(in_group)
    members = members[np.argsort(join_month[members], kind="stable")]
    group_of = np.full(len(join_month), -1, dtype=np.int64)
    sizes: list[int] = []
    pos = 0
    while len(members) - pos >= 5:
        size = min(int(rng.integers(5, 26)), len(members) - pos)
        if len(members) - pos - size < 5:
            size = len(members) - pos
        group_of[members[pos : pos + size]] = len(sizes)
        sizes.append(size)
        pos += size
    return group_of, np.array(sizes, dtype=np.int64)


def _draw_members(place: Place, horizon: Horizon, n: int, rng: np.random.Generator) -> _Members:
    mix = PROFILE_SECTOR_MIX[place.profile]
    codes = np.array([SECTOR_ORDER.index(s) for s in mix], dtype=np.int64)
    sector = codes[rng.choice(len(codes), n, p=np.array(list(mix.values())))]
    econ = [SECTORS[s] for s in SECTOR_ORDER]
    female = rng.random(n) < np.array([econ[i].female_share for i in sector])
    founding = rng.random(n) < 0.4
    join_month = np.where(founding, rng.integers(0, 3, n), rng.integers(0, horizon.months, n))
    join_month = np.minimum(join_month, horizon.months - 1).astype(np.int64)
    join_day = _uniform_day(rng, horizon.month_start[join_month], horizon.month_len[join_month])
    group_of, group_size = _groups(rng, join_month, rng.random(n) < 0.6)
    group_quality = rng.normal(0.0, 0.5, len(group_size))
    discipline = (
        rng.normal(0.0, 1.0, n)
        + 0.15 * female
        + np.append(group_quality, 0.0)[group_of]  # group_of -1 (no group) picks the 0.0
    )
    level = np.array([econ[i].median_income for i in sector]) * np.exp(rng.normal(0, 0.45, n))
    volatility = np.array([econ[i].volatility for i in sector]) * np.exp(rng.normal(0, 0.25, n))
    share = np.array([econ[i].coop_sales_share for i in sector]) * np.exp(rng.normal(0, 0.4, n))
    return _Members(
        sector=sector,
        female=female,
        join_month=join_month,
        join_day=join_day,
        group_of=group_of,
        group_size=group_size,
        discipline=discipline,
        level=level,
        volatility=volatility,
        coop_share=np.clip(share, 0.05, 0.95),
        save_propensity=rng.beta(2.0, 3.0, n),
    )


class _Simulator:
    """One cooperative's month loop; each `_month_*` method writes one kind of event."""

    def __init__(
        self,
        place: Place,
        horizon: Horizon,
        n_members: int,
        city_factor: FloatArray,
        rng: np.random.Generator,
    ) -> None:
        self.place, self.h, self.rng = place, horizon, rng
        n = n_members
        t_all = horizon.months + EXTRA_MONTHS
        self.m_start, self.m_len, self.end_day = (
            horizon.month_start,
            horizon.month_len,
            horizon.end_day,
        )
        cal = horizon.all_months
        years = cal.astype("datetime64[Y]").astype(np.int64) + 1970
        months = cal.astype(np.int64) % 12 + 1
        self.pokok = int(rng.choice([50_000, 100_000, 150_000]))
        self.wajib = int(rng.choice([10_000, 20_000, 25_000, 50_000]))
        self.coop_rate = float(rng.choice([0.010, 0.0125, 0.015, 0.0175, 0.020]))
        lenient = rng.random() < SCREEN_LENIENT_SHARE
        self.past_default_screen = SCREEN_PAST_DEFAULT_LENIENT if lenient else SCREEN_PAST_DEFAULT
        self.m = _draw_members(place, horizon, n, rng)
        self.season_by_sector = np.vstack([seasonality(s, years, months) for s in SECTOR_ORDER])
        self.season = self.season_by_sector[self.m.sector]
        self.city = city_factor[:t_all]
        self.onset = rng.random((n, t_all)) < SHOCK_ONSET_PROB
        shocked = self.onset.copy()
        for lag in range(1, SHOCK_MONTHS):
            shocked[:, lag:] |= self.onset[:, :-lag]
        self.shocked = shocked
        # one uniform per member and month decides the stop of every instalment due then
        self.stop_draw = rng.random((n, t_all), dtype=np.float32)
        vol = self.m.volatility[:, None]
        noise = np.exp(vol * rng.normal(0, 1, (n, t_all)) - vol**2 / 2)
        self.income = (
            self.m.level[:, None]
            * self.season
            * self.city[None, :]
            * np.where(shocked, SHOCK_INCOME_FACTOR, 1.0)
            * noise
        )
        self.seasonal_sectors = np.array(
            [
                i
                for i, s in enumerate(SECTOR_ORDER)
                if SECTORS[s].lean_months or SECTORS[s].festive_factor > 1.2
            ]
        )
        self.state = _State(
            owed_wajib=np.zeros((n, horizon.months), dtype=bool),
            sukarela=np.zeros(n, dtype=np.int64),
            busy_until=np.full(n, -1, dtype=np.int64),
            busy_amount=np.zeros(n, dtype=np.int64),
            other_until=np.full(n, -1, dtype=np.int64),
            last_disbursed=np.full(n, -1, dtype=np.int64),
            stop_day=np.full(n, -1, dtype=np.int64),
            earlier_stop_day=np.full(n, -1, dtype=np.int64),
            past_due_from=np.full(n, NEVER_DAY, dtype=np.int64),
            past_due_until=np.full(n, -1, dtype=np.int64),
            arrears_until=np.full(n, -1, dtype=np.int64),
            last_loan_late=np.zeros(n, dtype=bool),
        )
        self.savings, self.purchases, self.sales = _Events(), _Events(), _Events()
        self.repayments, self.loans, self.installments, self.oracle = (
            _Events(),
            _Events(),
            _Events(),
            _Events(),
        )

    # ---------------------------------------------------------------- helpers
    def _day(self, t: int, members: IntArray, late_bias: FloatArray | None = None) -> IntArray:
        """A day in month t, never before the member joined; late_bias > 1 pushes it later."""
        u = self.rng.random(len(members))
        if late_bias is not None:
            u = u ** (1.0 / late_bias)
        d = self.m_start[t] + np.floor(u * self.m_len[t]).astype(np.int64)
        return np.asarray(np.maximum(d, self.m.join_day[members]))

    def _saving(
        self,
        member: IntArray,
        day: IntArray,
        kind: int,
        direction: int,
        amount: IntArray,
        period: IntArray,
    ) -> None:
        k = len(member)
        self.savings.add(
            member=member,
            day=day,
            kind=np.full(k, kind),
            direction=np.full(k, direction),
            amount=np.asarray(amount, dtype=np.int64),
            period=np.asarray(period, dtype=np.int64),
        )

    def _group_share_in_arrears(self, t: int) -> FloatArray:
        g, size = self.m.group_of, self.m.group_size
        in_arrears = (self.state.arrears_until >= t).astype(np.float64)
        grouped = g >= 0
        per_group = np.bincount(g[grouped], in_arrears[grouped], len(size))
        gi = np.maximum(g, 0)
        share = (
            (per_group[gi] - in_arrears) / np.maximum(size[gi] - 1, 1)
            if len(size)
            else in_arrears * 0
        )
        return np.asarray(np.where(grouped, share, 0.0), dtype=np.float64)

    # ---------------------------------------------------------------- the loop
    def run(self) -> None:
        n = len(self.m.sector)
        self._saving(np.arange(n), self.m.join_day, 0, 0, np.full(n, self.pokok), np.full(n, -1))
        for t in range(self.h.months):
            idx = np.flatnonzero(self.m.join_month <= t)
            if len(idx) == 0:
                continue
            group_share = self._group_share_in_arrears(t)
            opening = self.state.sukarela.copy()
            self._month_wajib(t, idx)
            stress = self.income[idx, t] / self.m.level[idx] < 0.7
            self._month_sukarela_deposits(t, idx)
            self._month_purchases(t, idx, stress)
            self._month_sales(t, idx)
            strained = self._month_instalments(t, group_share)
            self._month_withdrawals(t, idx[stress & (opening[idx] > 0)], strained, opening)
            self._month_applications(t, group_share)

    def _month_wajib(self, t: int, idx: IntArray) -> None:
        m, st = self.m, self.state
        ratio = self.income[idx, t] / m.level[idx]
        p = sigmoid(
            1.7
            + WAJIB_DISCIPLINE_LOGIT * m.discipline[idx]
            + np.log(ratio)
            - 1.5 * self.shocked[idx, t]
        )
        pays = self.rng.random(len(idx)) < p
        payers = idx[pays]
        st.owed_wajib[idx[~pays], t] = True
        day = self._day(t, payers, late_bias=np.exp(-WAJIB_DAY_DISCIPLINE * m.discipline[payers]))
        self._saving(payers, day, 1, 0, np.full(len(payers), self.wajib), np.full(len(payers), t))
        # half of those paying also clear every month they still owe
        catching_up = np.flatnonzero(self.rng.random(len(payers)) < 0.5)
        rows, periods = np.nonzero(st.owed_wajib[payers[catching_up], :t])
        if len(rows):
            who = catching_up[rows]
            self._saving(payers[who], day[who], 1, 0, np.full(len(who), self.wajib), periods)
            st.owed_wajib[payers[catching_up], :t] = False

    def _month_sukarela_deposits(self, t: int, idx: IntArray) -> None:
        m = self.m
        ratio = self.income[idx, t] / m.level[idx]
        p = np.where(ratio > 0.9, 0.1 + 0.5 * m.save_propensity[idx], 0.04)
        dep = idx[self.rng.random(len(idx)) < p]
        amount = np.maximum(
            np.round(m.save_propensity[dep] * 0.08 * self.income[dep, t] / 5_000) * 5_000, 10_000
        ).astype(np.int64)
        self._saving(dep, self._day(t, dep), 2, 0, amount, np.full(len(dep), -1))
        self.state.sukarela[dep] += amount

    def _month_purchases(self, t: int, idx: IntArray, stress: BoolArray) -> None:
        counts = self.rng.poisson(2.5, len(idx))
        who = np.repeat(idx, counts)
        tight = np.repeat(stress, counts)
        budget = 450_000 * np.sqrt(self.m.level[who] / 3_000_000) * np.where(tight, 0.8, 1.0)
        per = (
            budget / np.maximum(np.repeat(counts, counts), 1) * self.rng.lognormal(0, 0.4, len(who))
        )
        amount = np.maximum(np.round(per / 500) * 500, 500).astype(np.int64)
        base = sigmoid(np.log(0.08 / 0.92) - CREDIT_DISCIPLINE_LOGIT * self.m.discipline[who])
        credit = self.rng.random(len(who)) < base + 0.35 * tight
        self.purchases.add(member=who, day=self._day(t, who), amount=amount, credit=credit)

    def _month_sales(self, t: int, idx: IntArray) -> None:
        counts = self.rng.poisson(3.0, len(idx))
        who = np.repeat(idx, counts)
        per = (
            self.income[who, t] * self.m.coop_share[who] / np.maximum(np.repeat(counts, counts), 1)
        )
        amount = np.round(per * self.rng.lognormal(-0.045, 0.3, len(who)) / 1_000) * 1_000
        who, amount = who[amount > 0], amount[amount > 0]
        self.sales.add(member=who, day=self._day(t, who), amount=amount.astype(np.int64))

    def _month_instalments(self, t: int, group_share: FloatArray) -> tuple[IntArray, IntArray]:
        """Pay, pay late or stop on each instalment due in month t.

        Returns (members, days) of those who will draw sukarela down before a due date.
        """
        empty = np.array([], dtype=np.int64)
        parts = self.state.due.pop(t, None)
        if not parts:
            return empty, empty
        d = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        m, st, rng = self.m, self.state, self.rng
        mem, due = d["member"], d["due"]
        paying = ~d["stop"] & ~d["after_stop"]
        ratio = d["amount"] / np.maximum(self.income[mem, t], 1.0)
        p_late = sigmoid(
            -2.4
            - LATE_DISCIPLINE_LOGIT * m.discipline[mem]
            + 1.2 * np.maximum(0.0, np.log(ratio / 0.3))
            + 4.0 * group_share[mem]
            + 1.2 * self.shocked[mem, t]
        )
        late = paying & (rng.random(len(mem)) < p_late)
        mean_delay = 6 + 20 * sigmoid(-m.discipline[mem])
        delay = np.where(
            late,
            np.minimum(1 + np.floor(rng.exponential(mean_delay)), MAX_LATE_DAYS),
            -np.floor(rng.random(len(mem)) * 6),
        ).astype(np.int64)
        pay_day = due + delay
        rec = paying & (pay_day <= self.end_day)
        self.repayments.add(
            loan=d["loan"][rec], member=mem[rec], day=pay_day[rec], amount=d["amount"][rec]
        )
        very_late = mem[late & (delay > 30)]
        st.arrears_until[very_late] = np.maximum(st.arrears_until[very_late], t + 1)
        st.last_loan_late[very_late] = True

        stops = d["stop"]
        stopped = mem[stops]
        if len(stopped):
            who, at = np.unique(stopped, return_inverse=True)
            st.earlier_stop_day[who] = st.stop_day[who]
            st.stop_day[who] = NEVER_DAY
            np.minimum.at(st.stop_day, who[at], due[stops])
        st.last_loan_late[stopped] = True
        recover = rng.random(len(stopped)) < 0.35
        recovery_day = due[stops] + rng.integers(120, 400, len(stopped))
        recovery_month = np.searchsorted(self.m_start, recovery_day, side="right") - 1
        np.maximum.at(
            st.arrears_until, stopped, np.where(recover, recovery_month, len(self.m_start))
        )
        self._extend_past_due(
            np.concatenate([mem[late], stopped]),
            np.concatenate([due[late], due[stops]]),
            np.concatenate([pay_day[late], np.where(recover, recovery_day, NEVER_DAY)]),
        )
        ok = recover & (recovery_day <= self.end_day)
        self.repayments.add(
            loan=d["loan"][stops][ok],
            member=stopped[ok],
            day=recovery_day[ok],
            amount=d["remaining"][stops][ok],
        )
        strained = (late | stops) & (rng.random(len(mem)) < 0.5)
        days = np.maximum(due[strained] - rng.integers(1, 11, int(strained.sum())), self.m_start[t])
        return mem[strained], days

    def _extend_past_due(self, member: IntArray, start: IntArray, until: IntArray) -> None:
        """Add this month's unpaid spells (due day, day paid) to each member's current one.

        A spell that begins after the member's last one ended replaces it; one that overlaps
        it extends it, so `past_due_from` stays the oldest unpaid due day of the spell.
        """
        if len(member) == 0:
            return
        st = self.state
        who, at = np.unique(member, return_inverse=True)
        new_from = np.full(len(who), NEVER_DAY, dtype=np.int64)
        np.minimum.at(new_from, at, start)
        new_until = np.full(len(who), -1, dtype=np.int64)
        np.maximum.at(new_until, at, until)
        ongoing = st.past_due_until[who] > new_from
        st.past_due_from[who] = np.where(
            ongoing, np.minimum(st.past_due_from[who], new_from), new_from
        )
        st.past_due_until[who] = np.maximum(
            np.where(ongoing, st.past_due_until[who], -1), new_until
        )

    def _last_stop_before(self, member: IntArray, day: IntArray) -> IntArray:
        """Due day of the last instalment missed for good before `day` (-1: none)."""
        st = self.state
        latest = st.stop_day[member]
        return np.asarray(np.where(latest < day, latest, st.earlier_stop_day[member]))

    def _past_due(self, member: IntArray, day: IntArray) -> BoolArray:
        """Whether an instalment due before `day` is still unpaid at its start.

        Only whether, not how long: the ledger settles payments oldest instalment first, so
        when a later instalment is paid before a late earlier one its books show fewer days
        past due than the spell does (but past due on the same days, give or take the few
        days an instalment is paid early).
        """
        st = self.state
        return np.asarray(
            (st.past_due_from[member] < day) & (day <= st.past_due_until[member]), dtype=bool
        )

    def _month_withdrawals(
        self, t: int, stressed: IntArray, strained: tuple[IntArray, IntArray], opening: IntArray
    ) -> None:
        """Sukarela withdrawals, never more than the balance at the start of the month."""
        s_mem, s_day = strained
        has_balance = opening[s_mem] > 0
        s_mem, s_day = s_mem[has_balance], s_day[has_balance]
        members = np.concatenate([s_mem, stressed[self.rng.random(len(stressed)) < 0.4]])
        random_days = self._day(t, members[len(s_mem) :])
        days = np.concatenate([s_day, random_days])
        members, first = np.unique(members, return_index=True)
        if len(members) == 0:
            return
        days = np.maximum(days[first], self.m.join_day[members])
        share = self.rng.uniform(0.5, 1.0, len(members))
        amount = np.floor(opening[members] * share / 5_000) * 5_000
        amount = np.where(amount <= 0, opening[members], amount).astype(np.int64)
        self._saving(members, days, 2, 1, amount, np.full(len(members), -1))
        self.state.sukarela[members] -= amount

    def _month_applications(self, t: int, group_share: FloatArray) -> None:
        """Applications sized to income; the cooperative screens only on what it can see."""
        m, st, rng = self.m, self.state, self.rng
        n_open = (st.busy_until >= t).astype(np.int64) + (st.other_until >= t)
        cand = np.flatnonzero((m.join_month < t) & (n_open < MAX_OPEN_LOANS))
        sector = m.sector[cand]
        # seasonal sectors borrow ahead of a turn of their season
        seasonal_need = np.isin(sector, self.seasonal_sectors) & (
            self.season_by_sector[sector, t + 1] != self.season_by_sector[sector, t]
        )
        cand_day = self._day(t, cand)
        past_due = self._past_due(cand, cand_day)
        stop_day = self._last_stop_before(cand, cand_day)
        months_since_stop = np.where(
            stop_day >= 0, np.floor((cand_day - stop_day) / 30.4375), -1
        ).astype(np.int64)
        p = apply_propensity(
            n_open[cand],
            t - st.last_disbursed[cand],
            past_due,
            months_since_stop,
            (stop_day >= 0) & past_due,
            seasonal_need,
        )
        chosen = rng.random(len(cand)) < p
        app, seasonal_need, app_day = cand[chosen], seasonal_need[chosen], cand_day[chosen]
        past_due, past_default = past_due[chosen], stop_day[chosen] >= 0
        k = len(app)
        if k == 0:
            return
        owed = st.owed_wajib[app, :t].sum(axis=1)
        screen = screen_logit(
            owed, st.last_loan_late[app], past_due, past_default, self.past_default_screen
        )
        rejected = rng.random(k) < sigmoid(screen)
        tenor = rng.choice(np.array([3, 6, 9, 12, 18, 24]), k, p=[0.1, 0.25, 0.1, 0.35, 0.1, 0.1])
        emergency = rng.random(k) < 0.07
        tenor = np.where(emergency, np.minimum(tenor, 6), tenor).astype(np.int64)
        group_loan = (m.group_of[app] >= 0) & (rng.random(k) < 0.5) & ~emergency
        seasonal = seasonal_need & ~group_loan & ~emergency & (rng.random(k) < 0.6)
        product = np.select([emergency, group_loan, seasonal], [3, 2, 1], default=0).astype(
            np.int64
        )
        principal = m.level[app] * rng.uniform(0.6, 2.6, k) * np.sqrt(tenor / 12)
        principal = np.where(emergency, np.minimum(principal, 3_000_000), principal)
        principal = np.clip(np.round(principal / 100_000) * 100_000, 1_000_000, 50_000_000).astype(
            np.int64
        )
        rate = np.round(self.coop_rate - 0.0025 * group_loan + 0.0025 * emergency, 4)
        purposes = list(LoanPurpose)
        business = np.array(
            [
                purposes.index(
                    SECTORS[SECTOR_ORDER[s]].purposes[
                        int(rng.integers(0, 3)) % len(SECTORS[SECTOR_ORDER[s]].purposes)
                    ]
                )
                for s in m.sector[app]
            ],
            dtype=np.int64,
        )
        personal = rng.choice(
            np.array(
                [
                    purposes.index(p)
                    for p in (LoanPurpose.HEALTH, LoanPurpose.EDUCATION, LoanPurpose.HOUSEHOLD)
                ]
            ),
            k,
        )
        purpose = np.where(emergency, personal, business)
        disb_day = np.where(rejected, -1, app_day + rng.integers(1, 11, k))
        # an application still pending at the end of the horizon is not in the ledger
        keep: npt.NDArray[Any] = disb_day <= self.end_day
        cols: list[npt.NDArray[Any]] = [
            a[keep]
            for a in (app, app_day, rejected, tenor, product, principal, rate, purpose, disb_day)
        ]
        app, app_day, rejected, tenor, product, principal, rate, purpose, disb_day = cols
        loan_ids = np.arange(st.n_loans, st.n_loans + len(app))
        st.n_loans += len(app)
        self.loans.add(
            loan=loan_ids,
            member=app,
            app_day=app_day,
            disb_day=disb_day,
            rejected=rejected,
            principal=principal,
            tenor=tenor,
            rate=rate,
            product=product,
            purpose=purpose,
            group=np.where(product == 2, m.group_of[app], -1),
        )
        d = ~rejected
        self._disburse(
            t,
            _NewLoans(
                loan_ids[d],
                app[d],
                tenor[d],
                principal[d],
                rate[d],
                disb_day[d],
                past_default[keep][d],
                past_due[keep][d],
            ),
            group_share,
        )

    def _disburse(self, t: int, new: _NewLoans, group_share: FloatArray) -> None:
        """Schedule, true hazard, oracle PD and the stop draw of newly disbursed loans."""
        loan, member, tenor, principal = new.loan, new.member, new.tenor, new.principal
        rate, disb_day = new.rate, new.disb_day
        if len(loan) == 0:
            return
        m, st = self.m, self.state
        n_loan = len(loan)
        rep = np.repeat(np.arange(n_loan), tenor)
        k = np.arange(len(rep)) - np.repeat(np.cumsum(tenor) - tenor, tenor) + 1
        disb_month = np.searchsorted(self.m_start, disb_day, side="right") - 1
        day_of_month = np.minimum(disb_day - self.m_start[disb_month], 27)
        due_month = disb_month[rep] + k
        due_day = self.m_start[due_month] + day_of_month[rep]
        base = principal // tenor
        principal_due = np.where(
            k == tenor[rep], principal[rep] - base[rep] * (tenor[rep] - 1), base[rep]
        )
        interest_due_1 = np.round(principal * rate).astype(np.int64)
        interest_due = interest_due_1[rep]
        amount_due = principal_due + interest_due
        total = np.bincount(rep, amount_due, n_loan).astype(np.int64)
        before = np.cumsum(amount_due) - amount_due - np.repeat(np.cumsum(total) - total, tenor)
        remaining = total[rep] - before

        mem_k = member[rep]
        # the instalment of a loan still running is due in the same months (a top-up)
        existing = np.where(due_month <= st.busy_until[mem_k], st.busy_amount[mem_k], 0)
        afford = np.log((amount_due + existing) / m.level[mem_k])
        standing = PAST_DEFAULT_LOGIT * new.past_default + PAST_DUE_LOGIT * new.past_due
        season_k = np.log(self.season[mem_k, due_month])
        city_k = np.log(self.city[due_month])
        thin = (t - m.join_month[member]) < THIN_FILE_MONTHS
        x = (
            HAZARD_BASE
            + PROFILE_RISK_OFFSET[self.place.profile]
            - DISCIPLINE_LOGIT * m.discipline[mem_k]
            + AFFORDABILITY_LOGIT * (afford - AFFORDABILITY_REF)
            - SEASON_LOGIT * season_k
            - CITY_LOGIT * city_k
            + VOLATILITY_LOGIT * (m.volatility[mem_k] - VOLATILITY_REF)
            + GROUP_ARREARS_LOGIT * group_share[mem_k]
            + THIN_FILE_LOGIT * thin[rep]
            + standing[rep]
        )
        # a shock's onset is unknown at application: the oracle integrates over it
        h_expected = (1 - SHOCK_ONSET_PROB) * sigmoid(x) + SHOCK_ONSET_PROB * sigmoid(
            x + SHOCK_LOGIT
        )
        h_realised = sigmoid(x + SHOCK_LOGIT * self.onset[mem_k, due_month])
        hit = self.stop_draw[mem_k, due_month] < h_realised
        first = np.full(n_loan, NO_STOP, dtype=np.int64)
        np.minimum.at(first, rep[hit], k[hit])
        stop, after = k == first[rep], k > first[rep]
        # the instalment's day DEFAULT_DPD + 1 past due falls within the label window
        in_window = due_day + DEFAULT_DPD + 1 <= disb_day[rep] + DEFAULT_WINDOW_DAYS
        survival = np.exp(np.bincount(rep, np.where(in_window, np.log1p(-h_expected), 0.0), n_loan))
        w = in_window.astype(np.float64)
        n_w = np.maximum(np.bincount(rep, w, n_loan), 1.0)

        def window_mean(values: FloatArray) -> FloatArray:
            return np.asarray(np.bincount(rep, values * w, n_loan) / n_w, dtype=np.float64)

        contributions = {
            TRUE_DRIVERS["discipline"]: -DISCIPLINE_LOGIT * m.discipline[member] + standing,
            TRUE_DRIVERS["affordability"]: AFFORDABILITY_LOGIT
            * window_mean(afford - AFFORDABILITY_REF),
            TRUE_DRIVERS["seasonality"]: -SEASON_LOGIT * window_mean(season_k),
            TRUE_DRIVERS["volatility"]: VOLATILITY_LOGIT * (m.volatility[member] - VOLATILITY_REF),
            TRUE_DRIVERS["group"]: GROUP_ARREARS_LOGIT * group_share[member],
            TRUE_DRIVERS["thin_file"]: THIN_FILE_LOGIT * thin,
            TRUE_DRIVERS["city"]: -CITY_LOGIT * window_mean(city_k),
        }
        self.oracle.add(
            loan=loan,
            true_pd_12m=1.0 - survival,
            simulated_default_12m=np.bincount(rep, stop & in_window, n_loan) > 0,
            stop_installment=np.where(first == NO_STOP, 0, first),
            **{f"contrib_{name}": v for name, v in contributions.items()},
        )
        end = disb_month + tenor
        running = st.busy_until[member] >= t
        keeps = running & (st.busy_until[member] > end)
        st.other_until[member] = np.where(running, np.minimum(st.busy_until[member], end), -1)
        st.busy_amount[member] = np.where(keeps, st.busy_amount[member], base + interest_due_1)
        st.busy_until[member] = np.where(keeps, st.busy_until[member], end)
        st.last_disbursed[member] = disb_month
        self.installments.add(
            loan=loan[rep],
            member=mem_k,
            no=k,
            due=due_day,
            principal=principal_due,
            interest=interest_due,
            amount=amount_due,
        )
        fields = {
            "loan": loan[rep],
            "member": mem_k,
            "due": due_day,
            "amount": amount_due,
            "remaining": remaining,
            "stop": stop,
            "after_stop": after,
        }
        for month in np.unique(due_month[due_month < self.h.months]):
            sel = due_month == month
            st.due.setdefault(int(month), []).append({f: v[sel] for f, v in fields.items()})


def _dates(days: npt.NDArray[Any]) -> pd.Series:
    return pd.Series(np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype(DATE_DTYPE))


def _values(enum: type[LabelledEnum], codes: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Enum values for the integer codes the simulation uses (position in the enum)."""
    return np.array(enum.values(), dtype=object)[np.asarray(codes, dtype=np.int64)]


def _ordered(ev: _Events, *names: str) -> dict[str, npt.NDArray[Any]]:
    """Event columns sorted by day then member, so ids follow the calendar."""
    cols = {n: ev.get(n) for n in names}
    order = np.lexsort((cols["member"], cols["day"]))
    return {n: v[order] for n, v in cols.items()}


def simulate_cooperative(
    place: Place,
    horizon: Horizon,
    n_members: int,
    city_factor: FloatArray,
    rng: np.random.Generator,
    pii_key: bytes,
    declaration_rng: np.random.Generator | None = None,
) -> CoopSimulation:
    """Simulate `n_members` members of one cooperative over the horizon.

    `city_factor` is the city-wide income multiplier per month (months + EXTRA_MONTHS long),
    shared by every cooperative of a run. `declaration_rng` draws what applicants declare
    on the loan form (`declarations.py`) and nothing else; without it the declaration step
    is skipped and the three declaration columns are empty. Either way every other column
    is the same: the step never draws from `rng`.
    """
    sim = _Simulator(place, horizon, n_members, city_factor, rng)
    sim.run()
    return _assemble(sim, rng, pii_key, declaration_rng)


def _declaration_columns(
    sim: _Simulator, declaration_rng: np.random.Generator | None
) -> tuple[dict[str, Any], Declarations | None]:
    """The loans table's declaration columns (nullable arrays, in loan order) and the
    declarations they come from; all empty without a `declaration_rng`."""
    member, app_day = sim.loans.get("member"), sim.loans.get("app_day")
    if declaration_rng is None:
        k = len(member)
        return {
            "declared_monthly_income": pd.array([pd.NA] * k, dtype="Int64"),
            "declared_household_expenses": pd.array([pd.NA] * k, dtype="Int64"),
            "income_verified": pd.array([pd.NA] * k, dtype="boolean"),
        }, None
    month = np.searchsorted(sim.m_start, app_day, side="right") - 1
    d = declare(declaration_rng, member, month, sim.income, sim.m.level)
    income = pd.array(d.income, dtype="Int64")
    income[~d.declared] = pd.NA
    expenses = pd.array(d.expenses, dtype="Int64")
    expenses[~d.has_expenses] = pd.NA
    verified = pd.array(d.verified, dtype="boolean")
    verified[~d.declared] = pd.NA
    return {
        "declared_monthly_income": income,
        "declared_household_expenses": expenses,
        "income_verified": verified,
    }, d


def _assemble(
    sim: _Simulator,
    rng: np.random.Generator,
    pii_key: bytes,
    declaration_rng: np.random.Generator | None = None,
) -> CoopSimulation:
    place, m, h = sim.place, sim.m, sim.h
    coop = place.cooperative_id
    n = len(m.sector)
    member_ids = make_ids(f"{coop}-A", np.arange(1, n + 1), 5)
    group_ids = make_ids(f"{coop}-K", np.arange(1, len(m.group_size) + 1), 3)

    def member_id(idx: npt.NDArray[Any]) -> pd.Series:
        return member_ids.iloc[np.asarray(idx, dtype=np.int64)].reset_index(drop=True)

    def group_id(idx: npt.NDArray[Any]) -> pd.Series:
        out = pd.Series([None] * len(idx), dtype="str")
        has = np.asarray(idx) >= 0
        out[has] = group_ids.iloc[np.asarray(idx)[has]].to_numpy()
        return out

    sectors = [s.value for s in SECTOR_ORDER]
    birth = m.join_day - rng.integers(21 * 365, 65 * 365, n)
    nik_hash, phone_hash = make_nik_hashes(birth, m.female, rng, pii_key)
    phone = pd.Series(phone_hash, dtype="str")
    phone[rng.random(n) < 0.15] = None
    cooperatives = pd.DataFrame(
        {
            "cooperative_id": [coop],
            "name": [place.name],
            "kelurahan": [place.kelurahan],
            "kecamatan": pd.Series([place.kecamatan], dtype="str"),
            "city": [place.city],
            "profile": [place.profile.value],
            "established_date": _dates(np.array([h.month_start[0]])),
        }
    )
    members = pd.DataFrame(
        {
            "member_id": member_ids,
            "cooperative_id": coop,
            "nik_hash": pd.Series(nik_hash, dtype="str"),
            "phone_hash": phone,
            "name": pd.Series(make_names(m.female, rng), dtype="str"),
            "gender": np.where(m.female, Gender.FEMALE.value, Gender.MALE.value),
            "join_date": _dates(m.join_day),
            "sector": np.array(sectors)[m.sector],
            "group_id": group_id(m.group_of),
        }
    )

    sv = _ordered(sim.savings, "member", "day", "kind", "direction", "amount", "period")
    months_str = np.datetime_as_string(h.all_months, unit="M")
    savings = pd.DataFrame(
        {
            "transaction_id": make_ids(f"{coop}-S", np.arange(1, len(sv["day"]) + 1), 8),
            "member_id": member_id(sv["member"]),
            "cooperative_id": coop,
            "date": _dates(sv["day"]),
            "kind": _values(SavingsKind, sv["kind"]),
            "direction": _values(Direction, sv["direction"]),
            "amount": sv["amount"],
            "period": pd.Series(
                np.where(sv["period"] >= 0, months_str[np.maximum(sv["period"], 0)], None),
                dtype="str",
            ),
        }
    )

    def loan_id(idx: npt.NDArray[Any]) -> pd.Series:
        return make_ids(f"{coop}-P", np.asarray(idx, dtype=np.int64) + 1, 6)

    ln = sim.loans
    rejected = ln.get("rejected").astype(bool)
    loans = pd.DataFrame(
        {
            "loan_id": loan_id(ln.get("loan")),
            "member_id": member_id(ln.get("member")),
            "cooperative_id": coop,
            "group_id": group_id(ln.get("group")),
            "application_date": _dates(ln.get("app_day")),
            "disbursement_date": _dates(ln.get("disb_day")).where(~rejected),
            "status": np.where(rejected, LoanStatus.REJECTED.value, LoanStatus.DISBURSED.value),
            "principal": ln.get("principal"),
            "tenor_months": ln.get("tenor"),
            "flat_monthly_rate": ln.get("rate").astype(np.float64),
            "effective_annual_rate": _effective_rates(ln.get("rate"), ln.get("tenor")),
            "product": _values(LoanProduct, ln.get("product")),
            "purpose": _values(LoanPurpose, ln.get("purpose")),
        }
    )
    declared, decl = _declaration_columns(sim, declaration_rng)
    for name, column in declared.items():
        loans[name] = column

    it = {
        c: sim.installments.get(c)
        for c in ("loan", "member", "no", "due", "principal", "interest", "amount")
    }
    order = np.lexsort((it["no"], it["loan"]))
    it = {c: v[order] for c, v in it.items()}
    installments = pd.DataFrame(
        {
            "loan_id": loan_id(it["loan"]),
            "member_id": member_id(it["member"]),
            "cooperative_id": coop,
            "installment_no": it["no"].astype(np.int64),
            "due_date": _dates(it["due"]),
            "principal_due": it["principal"].astype(np.int64),
            "interest_due": it["interest"].astype(np.int64),
            "amount_due": it["amount"].astype(np.int64),
        }
    )
    rp = _ordered(sim.repayments, "loan", "member", "day", "amount")
    repayments = pd.DataFrame(
        {
            "repayment_id": make_ids(f"{coop}-B", np.arange(1, len(rp["day"]) + 1), 7),
            "loan_id": loan_id(rp["loan"]),
            "member_id": member_id(rp["member"]),
            "cooperative_id": coop,
            "date": _dates(rp["day"]),
            "amount": rp["amount"].astype(np.int64),
        }
    )
    pu = _ordered(sim.purchases, "member", "day", "amount", "credit")
    purchases = pd.DataFrame(
        {
            "purchase_id": make_ids(f"{coop}-G", np.arange(1, len(pu["day"]) + 1), 8),
            "member_id": member_id(pu["member"]),
            "cooperative_id": coop,
            "date": _dates(pu["day"]),
            "amount": pu["amount"].astype(np.int64),
            "payment": np.where(
                pu["credit"].astype(bool), PaymentMethod.CREDIT.value, PaymentMethod.CASH.value
            ),
        }
    )
    sa = _ordered(sim.sales, "member", "day", "amount")
    produce = np.array([SECTORS[s].produce.value for s in SECTOR_ORDER])
    sales = pd.DataFrame(
        {
            "sale_id": make_ids(f"{coop}-J", np.arange(1, len(sa["day"]) + 1), 8),
            "member_id": member_id(sa["member"]),
            "cooperative_id": coop,
            "date": _dates(sa["day"]),
            "product": produce[m.sector[sa["member"]]],
            "amount": sa["amount"].astype(np.int64),
        }
    )

    orc = {c: sim.oracle.get(c) for c in sim.oracle.cols}
    contrib_names = [c for c in orc if c.startswith("contrib_")]
    oracle_loans = pd.DataFrame({"loan_id": loan_id(orc.get("loan", np.array([], dtype=np.int64)))})
    oracle_loans["cooperative_id"] = coop
    for c in ("true_pd_12m", "simulated_default_12m", "stop_installment", *contrib_names):
        oracle_loans[c] = orc.get(c, np.array([]))
    if contrib_names:
        values = np.column_stack([orc[c] for c in contrib_names])
        top = np.argsort(-values, axis=1)[:, :3]
        labels = np.array([c.removeprefix("contrib_") for c in contrib_names])
        for j in range(min(3, len(contrib_names))):
            oracle_loans[f"driver_{j + 1}"] = labels[top[:, j]]
    oracle_loans = loans[["loan_id", "member_id", "application_date", "disbursement_date"]].merge(
        oracle_loans, on="loan_id", how="inner"
    )
    as_of = pd.Timestamp(np.datetime64(h.end_day + 1, "D"))
    oracle_loans["window_closed"] = window_closed(oracle_loans, as_of).to_numpy()
    oracle_members = pd.DataFrame(
        {
            "member_id": member_ids,
            "cooperative_id": coop,
            "profile": place.profile.value,
            "sector": np.array(sectors)[m.sector],
            "discipline": m.discipline,
            "income_level": m.level,
            "income_volatility": m.volatility,
            "coop_sales_share": m.coop_share,
        }
    )
    oracle_applications = loans[
        ["loan_id", "member_id", "cooperative_id", "application_date", "status"]
    ].copy()
    if decl is not None:
        oracle_applications["true_monthly_income"] = decl.true_income
        oracle_applications["true_household_expenses"] = decl.true_expenses
        oracle_applications["declared"] = decl.declared
        oracle_applications["overstates_income"] = decl.overstates_income
        oracle_applications["understates_expenses"] = decl.understates_expenses
    tables = {
        "cooperatives": cooperatives,
        "members": members,
        "savings": savings,
        "loans": loans,
        "installments": installments,
        "repayments": repayments,
        "store_purchases": purchases,
        "produce_sales": sales,
    }
    return CoopSimulation(
        tables=tables,
        oracle_loans=oracle_loans,
        oracle_members=oracle_members,
        oracle_applications=oracle_applications,
    )
