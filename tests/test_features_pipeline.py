"""`amanah features build`: training table and profiles, local and on a real Dask cluster,
failing partitions, reruns, and the constant-time profile lookup."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest
from typer.testing import CliRunner

from features.catalog import categorical_names, feature_names
from features.generator.run import read_oracle
from features.ledger.store import Ledger
from features.pipeline import LABELS, build_features, fetch_profile, read_training
from serving.cli import app

AS_OF = pd.Timestamp("2025-07-01")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, small_ledger: Path) -> Path:
    out = tmp_path_factory.mktemp("features") / "out"
    report = build_features(small_ledger, out, AS_OF)
    assert report.failed == {}
    return out


def test_training_table_has_one_row_per_application_with_labels(
    built: Path, small_ledger: Path
) -> None:
    ledger = Ledger(small_ledger)
    loans = ledger.read("loans")
    training = read_training(built)
    assert sorted(training["loan_id"]) == sorted(loans["loan_id"])
    assert list(training.columns[:4]) == [
        "loan_id",
        "member_id",
        "cooperative_id",
        "application_date",
    ]
    assert set(feature_names()) <= set(training.columns)
    for c in categorical_names():
        assert isinstance(training[c].dtype, pd.CategoricalDtype), c
    # open windows and rejected applications are unlabelled, never "good"
    t = training.set_index("loan_id")
    rejected = loans.loc[loans["status"] == "rejected", "loan_id"]
    assert t.loc[rejected, "default_12m"].isna().all()
    open_window = loans["disbursement_date"] + pd.Timedelta(days=365) >= ledger.as_of
    assert t.loc[loans.loc[open_window, "loan_id"], "default_12m"].isna().all()
    assert t["labelled"].sum() == t["default_12m"].notna().sum() > 0
    # labels agree with the simulated truth; early warnings contain the defaults
    oracle = read_oracle(small_ledger).set_index("loan_id")
    labelled = t[t["labelled"]]
    truth = oracle.loc[labelled.index, "simulated_default_12m"]
    assert (labelled["default_12m"].astype(bool) == truth).all()
    assert (labelled["dpd30_12m"] >= labelled["dpd60_12m"]).all()
    assert (labelled["dpd60_12m"] >= labelled["default_12m"]).all()
    assert set(LABELS) <= set(training.columns)


def test_profiles_cover_every_member_and_are_fetched_by_id(built: Path, small_ledger: Path) -> None:
    members = Ledger(small_ledger).read("members")
    profiles = pd.concat(pd.read_parquet(f) for f in sorted((built / "profiles").glob("*.parquet")))
    assert sorted(profiles["member_id"]) == sorted(members["member_id"])
    assert (profiles["as_of"] == AS_OF).all()
    some = members["member_id"].iloc[7]
    got = fetch_profile(built, some)
    assert got is not None
    assert got["member_id"] == some and got["as_of"] == "2025-07-01"
    row = profiles.set_index("member_id").loc[some]
    assert got["membership_months"] == pytest.approx(row["membership_months"])
    assert set(feature_names()) <= set(got)
    assert fetch_profile(built, "no-such-member") is None


def test_dask_engine_on_a_local_cluster_writes_identical_output(
    built: Path, small_ledger: Path, tmp_path: Path
) -> None:
    out = tmp_path / "dask"
    report = build_features(small_ledger, out, AS_OF, engine="dask", workers=2)
    assert report.failed == {} and len(report.built) == 3
    for sub in ("training", "profiles"):
        for f in sorted((built / sub).glob("*.parquet")):
            pdt.assert_frame_equal(pd.read_parquet(f), pd.read_parquet(out / sub / f.name))


def test_a_corrupt_partition_is_reported_the_others_finish_and_rerun_builds_only_it(
    small_ledger: Path, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    shutil.copytree(small_ledger, ledger)
    target = ledger / "savings" / "KMP-0002.parquet"
    good = target.read_bytes()
    target.write_bytes(b"not a parquet file")
    out = tmp_path / "out"
    report = build_features(ledger, out, AS_OF)
    assert list(report.failed) == ["KMP-0002"]
    assert "Parquet" in report.failed["KMP-0002"] or "parquet" in report.failed["KMP-0002"]
    assert sorted(b["cooperative_id"] for b in report.built) == ["KMP-0001", "KMP-0003"]
    assert not (out / "training" / "KMP-0002.parquet").exists()
    target.write_bytes(good)
    again = build_features(ledger, out, AS_OF)
    assert [b["cooperative_id"] for b in again.built] == ["KMP-0002"]
    assert sorted(again.skipped) == ["KMP-0001", "KMP-0003"]
    assert again.failed == {}


def test_cli_build_and_its_errors(small_ledger: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["features", "build", "--ledger", str(small_ledger), "--out", str(tmp_path / "o")]
    result = runner.invoke(app, [*base, "--as-of", "2025-07-01"])
    assert result.exit_code == 0, result.output
    assert "Built 3 partitions" in result.output
    result = runner.invoke(app, [*base, "--engine", "spark"])
    assert result.exit_code == 2 and "--engine must be local or dask" in result.output
    result = runner.invoke(app, [*base, "--as-of", "yesterday-ish"])
    assert result.exit_code == 2 and "--as-of must be a date" in result.output


def test_tables_read_as_categories_give_the_same_profiles(small_ledger: Path) -> None:
    """The pipeline reads event tables dictionary-encoded for speed; the reference test
    checks the builder on plain text tables. Both must give the same rows."""
    from features.ledger.contracts import TABLE_ORDER
    from features.profile_builder import (
        CATEGORICAL_TABLES,
        FIT_COLUMNS,
        ProfileRequests,
        RepaymentProfileBuilder,
    )

    part = Ledger(small_ledger).partition("KMP-0002")
    plain = {t: part.table(t) for t in TABLE_ORDER}
    coded = {
        t: part.table(t, FIT_COLUMNS.get(t), categorical=t in CATEGORICAL_TABLES)
        for t in TABLE_ORDER
    }
    assert isinstance(coded["savings"]["member_id"].dtype, pd.CategoricalDtype)
    requests = ProfileRequests.from_applications(plain["loans"])
    a = RepaymentProfileBuilder().fit(plain).transform(requests)
    b = RepaymentProfileBuilder().fit(coded).transform(requests)
    pdt.assert_frame_equal(a, b)


def test_dask_engine_on_an_existing_scheduler(
    built: Path, small_ledger: Path, tmp_path: Path
) -> None:
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        out = tmp_path / "existing"
        report = build_features(
            small_ledger, out, AS_OF, engine="dask", scheduler=cluster.scheduler_address
        )
        assert (
            cluster.status.name == "running"
        )  # the build does not close a cluster it did not start
    assert report.failed == {} and len(report.built) == 3
    for f in sorted((built / "training").glob("*.parquet")):
        pdt.assert_frame_equal(pd.read_parquet(f), pd.read_parquet(out / "training" / f.name))
