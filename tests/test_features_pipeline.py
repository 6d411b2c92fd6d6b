"""`amanah features build`: training table and profiles, local and on a real Dask cluster,
failing partitions, reruns, the as-of day (recorded, checked, rebuilt when it changes) and
the constant-time profile lookup."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pandas.testing as pdt
import pytest
from typer.testing import CliRunner

from features.catalog import categorical_names, feature_names
from features.generator.run import read_oracle
from features.ledger.store import Ledger
from features.pipeline import (
    LABELS,
    AsOfOutOfRangeError,
    as_of_range,
    build_features,
    fetch_profile,
    read_training,
)
from features.profile_store import ProfileStore, ProfileStoreError
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


# ----------------------------------------------------------------------------- the as-of day


def test_the_profile_store_records_and_reports_its_as_of_day(built: Path) -> None:
    manifest = json.loads((built / "features.json").read_text(encoding="utf-8"))
    assert manifest["profiles_as_of"] == "2025-07-01"
    store = ProfileStore(built)
    assert store.as_of == date(2025, 7, 1) == store.ledger_as_of
    members = store.members()
    assert len(members) == 180 and members == sorted(members)
    first = store.members("KMP-0001")
    assert len(first) == 60 and set(first) < set(members)
    got = store.fetch(first[3])
    assert got is not None and got == fetch_profile(built, first[3])
    assert got["as_of"] == store.as_of.isoformat() and got["cooperative_id"] == "KMP-0001"
    assert store.fetch("no-such-member") is None


def test_a_folder_without_profiles_is_named_in_the_error(built: Path, tmp_path: Path) -> None:
    with pytest.raises(ProfileStoreError, match=re.escape(str(tmp_path / "nothing"))):
        ProfileStore(tmp_path / "nothing")
    half = tmp_path / "half"
    half.mkdir()
    shutil.copy(built / "features.json", half / "features.json")
    with pytest.raises(ProfileStoreError, match=r"profiles.sqlite is missing"):
        ProfileStore(half)
    (half / "features.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ProfileStoreError, match=r"profiles_as_of"):
        ProfileStore(half)


def test_rebuilding_as_of_another_day_rebuilds_the_profiles_and_the_manifest(
    built: Path, small_ledger: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out)
    earlier = pd.Timestamp("2025-03-01")
    report = build_features(small_ledger, out, earlier, workers=1)
    assert report.failed == {} and report.skipped == [] and len(report.built) == 3
    assert report.rebuilt_because == "profiles were as of 2025-07-01, now 2025-03-01"
    manifest = json.loads((out / "features.json").read_text(encoding="utf-8"))
    assert manifest["profiles_as_of"] == "2025-03-01"
    assert manifest["ledger_as_of"] == "2025-07-01"
    store = ProfileStore(out)
    assert store.as_of == date(2025, 3, 1)
    for f in sorted((out / "profiles").glob("*.parquet")):
        assert (pd.read_parquet(f)["as_of"] == earlier).all(), f.name
    some = store.members("KMP-0003")[5]
    now, then = ProfileStore(built).fetch(some), store.fetch(some)
    assert now is not None and then is not None and then["as_of"] == "2025-03-01"
    assert then["membership_months"] < now["membership_months"]
    # the training table does not depend on the as-of day
    for f in sorted((built / "training").glob("*.parquet")):
        pdt.assert_frame_equal(pd.read_parquet(f), pd.read_parquet(out / "training" / f.name))
    again = build_features(small_ledger, out, earlier, workers=1)
    assert again.built == [] and len(again.skipped) == 3 and again.rebuilt_because is None


def test_a_failed_rebuild_as_of_another_day_leaves_no_partition_of_the_old_day(
    small_ledger: Path, tmp_path: Path
) -> None:
    ledger = tmp_path / "ledger"
    shutil.copytree(small_ledger, ledger)
    out = tmp_path / "out"
    assert build_features(ledger, out, AS_OF, workers=1).failed == {}
    target = ledger / "savings" / "KMP-0002.parquet"
    good = target.read_bytes()
    target.write_bytes(b"not a parquet file")
    report = build_features(ledger, out, pd.Timestamp("2025-03-01"), workers=1)
    assert list(report.failed) == ["KMP-0002"]
    assert not (out / "profiles" / "KMP-0002.parquet").exists()
    assert not (out / "training" / "KMP-0002.parquet").exists()
    store = ProfileStore(out)
    assert store.as_of == date(2025, 3, 1) and store.members("KMP-0002") == []
    target.write_bytes(good)
    again = build_features(ledger, out, pd.Timestamp("2025-03-01"), workers=1)
    assert [b["cooperative_id"] for b in again.built] == ["KMP-0002"]
    assert len(ProfileStore(out).members("KMP-0002")) == 60


def test_an_as_of_outside_the_ledgers_history_is_refused(
    small_ledger: Path, tmp_path: Path
) -> None:
    ledger = Ledger(small_ledger)
    first, last = as_of_range(ledger)
    joined = ledger.read("members")["join_date"].min()
    assert last == ledger.as_of == AS_OF
    assert first == pd.Timestamp(joined) + pd.Timedelta(days=1)
    span = f"built as of {first.date()} to {last.date()}"
    out = tmp_path / "o"
    with pytest.raises(AsOfOutOfRangeError) as later:
        build_features(small_ledger, out, AS_OF + pd.Timedelta(days=1))
    assert "--as-of 2025-07-02 is after the ledger's as-of day" in str(later.value)
    assert span in str(later.value)
    with pytest.raises(AsOfOutOfRangeError) as earlier:
        build_features(small_ledger, out, first - pd.Timedelta(days=1))
    assert "before the ledger's history" in str(earlier.value) and span in str(earlier.value)
    assert isinstance(earlier.value, ValueError)
    assert not out.exists()  # refused before anything is written


def test_cli_builds_as_of_the_ledgers_day_by_default_and_refuses_a_later_day(
    small_ledger: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "o"
    base = ["features", "build", "--ledger", str(small_ledger), "--out", str(out)]
    result = runner.invoke(app, [*base, "--as-of", "2025-07-02"])
    assert result.exit_code == 2, result.output
    assert "--as-of 2025-07-02 is after the ledger's as-of day" in result.output
    assert "to 2025-07-01" in result.output
    result = runner.invoke(app, [*base, "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "profiles as of 2025-07-01" in result.output
    assert ProfileStore(out).as_of == Ledger(small_ledger).as_of.date()
