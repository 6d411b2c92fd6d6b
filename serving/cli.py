"""The `amanah` command line: one entry point for generating, importing, exporting, building
features, training, promoting and scoring. Each command parses its options, calls one
function and prints; the training workflow itself is `models.workflow`.

This is also the edge where the libraries' own chatter is silenced (`_quiet_libraries`):
officers and analysts read this output, so MLflow's, Alembic's, LightGBM's and Dask's INFO
lines and developer warnings do not reach them, and library code keeps its logging as is.
"""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from features.catalog import feature_names
from features.generator.run import (
    DEMO_CONFIG,
    GeneratorConfig,
    GeneratorConfigError,
    generate_ledger,
)
from features.ledger.enums import CoopProfile
from features.ledger.exporter import ExportError, export_ledger
from features.ledger.importer import LedgerImportError, import_ledger
from features.ledger.sources import SourceError
from features.ledger.store import Ledger, LedgerNotFoundError
from features.ledger.summary import LedgerSummary, summarise
from features.pipeline import build_features
from features.settings import get_settings
from features.wording import counted, format_rupiah

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from models.artifact import AmanahModel
    from models.portfolio import Portfolio
    from serving.monitor import MonitorRun

app = typer.Typer(
    name="amanah",
    help="Amanah: credit scoring for Koperasi Merah Putih (penilaian kredit koperasi).",
    no_args_is_help=True,
    add_completion=False,
    # a docstring's lines are joined into paragraphs, so help text wraps to the terminal
    rich_markup_mode="markdown",
)
# soft wrap: a sentence is one line however narrow the terminal or log (tables still fit)
console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
LOG_WIDTH = 120  # tables written to a file or a pipe, where no terminal sets the width

# loggers of the libraries a command drives; their INFO lines and warnings are for developers
QUIET_LOGGERS = ("mlflow", "alembic", "sqlalchemy", "lightgbm", "distributed", "dask",
                 "numba", "shap", "urllib3", "matplotlib", "py4j", "git")  # fmt: skip


def _quiet_libraries() -> None:
    """Silence the libraries at the command line's edge: their loggers to errors only,
    their warnings off (a warning raised from our own modules still shows), MLflow's
    download progress bars off."""
    # MLflow sets its logger's level when it is imported (later, inside a command)
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    for module in (*QUIET_LOGGERS, "pandas", "pyarrow", "sklearn", "pydantic", "google",
                   "opentelemetry", "mlflow_skinny"):  # fmt: skip
        warnings.filterwarnings("ignore", module=rf"{module}(\.|$)")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")


@app.callback()
def _edge() -> None:
    """Amanah: credit scoring for Koperasi Merah Putih (penilaian kredit koperasi)."""
    _quiet_libraries()
    for shown in (console, err):
        if not shown.is_terminal:
            shown.width = LOG_WIDTH


@contextmanager
def _step(description: str) -> Iterator[None]:
    """A spinner while a long step runs, on a terminal only (logs and tests stay clean)."""
    if not console.is_terminal:
        yield
        return
    with console.status(f"{description}..."):
        yield


def plural(n: int, noun: str, nouns: str | None = None) -> str:
    """ "1 cooperative", "2 cooperatives", "1,500 members" (thousands separated)."""
    return counted(n, noun, nouns or noun + "s", "en")


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {message}")
    return typer.Exit(code)


def _pii_key() -> bytes | None:
    key = get_settings().pii_key
    return key.get_secret_value().encode("utf-8") if key is not None else None


def print_summary(summary: LedgerSummary) -> None:
    console.print(
        f"[bold]{plural(summary.cooperatives, 'cooperative')}[/], "
        f"[bold]{plural(summary.members, 'member')}[/], "
        f"[bold]{plural(summary.loans_disbursed, 'loan')}[/] disbursed, "
        f"{summary.loans_rejected:,} rejected (as of {summary.as_of.date()})"
    )
    rows = Table(title="Ledger rows per table")
    rows.add_column("table")
    rows.add_column("rows", justify="right")
    for t, n in summary.rows.items():
        rows.add_row(t, f"{n:,}")
    console.print(rows)
    prof = Table(title="Default (> 90 DPD within 12 months) by cooperative profile")
    for col in ("profile", "cooperatives", "members", "labelled loans", "default rate"):
        prof.add_column(col, justify="left" if col == "profile" else "right")
    for profile, r in summary.by_profile.iterrows():
        rate = r["default_rate"]
        prof.add_row(
            CoopProfile(str(profile)).label_en,
            f"{int(r['cooperatives'])}",
            f"{int(r['members']):,}",
            f"{int(r['labelled_loans']):,}",
            "n/a" if rate != rate else f"{rate:.1%}",
        )
    console.print(prof)


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Ledger folder to write (replaced).")],
    cooperatives: Annotated[int, typer.Option(help="Number of cooperatives.")] = 34,
    members_per_coop: Annotated[int, typer.Option(help="Members per cooperative.")] = 500,
    months: Annotated[int, typer.Option(help="Months of history.")] = 36,
    start: Annotated[str, typer.Option(help="First month, YYYY-MM.")] = "2023-06",
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same ledger.")] = 42,
    downturn_from: Annotated[
        str | None,
        typer.Option(help="A lasting city-wide downturn from this month (YYYY-MM) on."),
    ] = None,
    downturn_factor: Annotated[
        float, typer.Option(help="Members' income multiplier during the downturn.")
    ] = 0.6,
) -> None:
    """Generate a synthetic ledger, with its ground truth kept apart for evaluation."""
    config = GeneratorConfig(
        cooperatives, members_per_coop, months, start, seed, downturn_from, downturn_factor
    )
    began = time.perf_counter()
    try:
        with _step(f"Generating {plural(cooperatives, 'cooperative')}"):
            counts = generate_ledger(out, config, pii_key=_pii_key())
    except GeneratorConfigError as exc:
        raise _fail(str(exc)) from exc
    total = sum(sum(v.values()) for v in counts.values())
    console.print(
        f"Wrote {plural(total, 'ledger row')} to {out} in {time.perf_counter() - began:.1f} s"
    )


@app.command()
def summary(ledger: Annotated[Path, typer.Option("--ledger", help="Ledger folder.")]) -> None:
    """Print a ledger's size and default rate by cooperative profile."""
    try:
        print_summary(summarise(Ledger(ledger)))
    except LedgerNotFoundError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="Where the demo ledger goes.")] = Path(
        "data/demo"
    ),
    cooperatives: Annotated[
        int, typer.Option(help="Number of cooperatives.")
    ] = DEMO_CONFIG.cooperatives,
    members_per_coop: Annotated[
        int, typer.Option(help="Members per cooperative.")
    ] = DEMO_CONFIG.members_per_coop,
    serve_api: Annotated[
        bool,
        typer.Option("--serve/--no-serve", help="End by serving the API (Ctrl+C stops it)."),
    ] = True,
    host: Annotated[str, typer.Option("--host", help="Address to serve on.")] = "127.0.0.1",
    port: Annotated[str, typer.Option("--port", help="Port to serve on.")] = "8000",
) -> None:
    """Generate the demo ledger, build profiles and the training table, train the PD model,
    register it in the embedded MLflow store and run the promotion gate; then create a demo
    partner and API key (printed once), print a ready `curl` line and serve the API."""
    from features.generator.oracle_comparison import compare_with_oracle
    from models.registry import promote as run_gate
    from models.registry import store_location
    from models.training import TableError
    from models.workflow import train_and_register

    port_number, _workers = _serve_address(host, port, "1")
    _demo_pii_key()
    generate(
        out=out,
        cooperatives=cooperatives,
        members_per_coop=members_per_coop,
        months=DEMO_CONFIG.months,
        start=DEMO_CONFIG.start,
        seed=DEMO_CONFIG.seed,
    )
    ledger = Ledger(out)
    print_summary(summarise(ledger))
    features_out = out.with_name(out.name + "-features")
    with _step("Building profiles and the training table"):
        report = build_features(out, features_out, ledger.as_of, force=True)
    rows = sum(int(b["training_rows"]) for b in report.built)
    console.print(
        f"Profiles and training table ({plural(rows, 'application')}, "
        f"{plural(len(feature_names()), 'feature')}, 3 labels) in {features_out} "
        f"({report.seconds:.1f} s)"
    )
    try:
        trained = train_and_register(
            features_out, seed=42, engine="local", compare=compare_with_oracle, step=_step
        )
    except TableError as exc:
        raise _fail(f"the demo's ledger cannot train a model: {exc}") from exc
    _print_training(
        trained.report,
        f"Registered version {trained.version} of amanah-pd as challenger (run {trained.run_id})",
    )
    with _step("Running the promotion gate"):
        decision = run_gate()
    if decision.get("undefined"):
        raise _fail(f"Not promoted: {decision['reason']}", code=1)
    if not decision.get("promoted"):
        failed = [name for name, ok in decision.get("checks", {}).items() if not ok]
        raise _fail(
            f"Not promoted: the promotion gate failed on {', '.join(failed)}; version "
            f"{trained.version} stays challenger (`amanah report --model "
            "models:/amanah-pd@challenger` shows why)",
            code=1,
        )
    console.print(
        f"amanah-pd version {trained.version} is champion. MLflow store: {store_location()}"
    )
    _open_demo_api(features_out, f"http://{host}:{port_number}")
    if serve_api:
        os.environ["AMANAH_FEATURES_DIR"] = str(features_out.resolve())
        serve(host=host, port=str(port_number), workers="1")


def _demo_pii_key() -> None:
    """Without AMANAH_PII_KEY the demo uses its own development key (serving.demo_access),
    exported for this process so the ledger, the consents and the server share it."""
    from features.settings import project_root
    from serving.demo_access import demo_pii_key

    if get_settings().pii_key is not None:
        return
    root = project_root() or Path.cwd().resolve()
    os.environ["AMANAH_PII_KEY"] = demo_pii_key(root).decode("utf-8")
    get_settings.cache_clear()


def _open_demo_api(features_out: Path, base_url: str) -> None:
    """The demo partner, its key (shown once), grants, consents and a curl line."""
    from features.profile_store import ProfileStore, ProfileStoreError
    from serving.demo_access import curl_line, open_demo_access, open_demo_officers

    key = _pii_key()
    assert key is not None  # set by _demo_pii_key
    try:
        profiles = ProfileStore(features_out)
    except ProfileStoreError as exc:
        raise _fail(str(exc)) from exc
    from serving.store import database_url, upgrade

    # the demo's own store: one left by an earlier demo run is brought to the newest revision
    # (any other store is refused until `amanah db upgrade`, which its owner runs)
    upgrade(database_url())
    with (
        _step("Opening the demo partner's access to the API"),
        _store_session(None, create=True) as session,
    ):
        access = open_demo_access(session, profiles, key)
        officers = open_demo_officers(session, access.cooperative_id)
    console.print(
        f"Demo partner {access.partner_id}: granted {plural(access.cooperatives, 'cooperative')}"
        f", {plural(access.consents, 'member')} consented. API key (shown once, keep it): "
        f"{access.api_key}",
        markup=False,
    )
    console.print("Score the first consented member:", markup=False)
    console.print(curl_line(base_url, access), markup=False)
    console.print(
        f"Officer console: {base_url}/console/ (cooperative {access.cooperative_id}). "
        "Log in as (passwords shown once, new at every demo run):",
        markup=False,
    )
    for username, role, password in officers:
        console.print(f"  {role}: username {username}, password {password}", markup=False)


@app.command("import")
def import_(
    source: Annotated[
        Path, typer.Option("--source", help="Folder of CSV files, or an XLSX workbook.")
    ],
    out: Annotated[Path, typer.Option("--out", help="Ledger folder to create.")],
    replace: Annotated[bool, typer.Option(help="Replace --out if it already holds files.")] = False,
) -> None:
    """Import a cooperative's export; rows that break a rule go to quarantine with the reason."""
    try:
        report = import_ledger(source, out, key=_pii_key(), replace=replace)
    except (SourceError, LedgerImportError) as exc:
        raise _fail(str(exc)) from exc
    table = Table(title=f"Import of {source.name} into {out}")
    for col in ("table", "read", "accepted", "quarantined", "blank rows", "quarantine reasons"):
        table.add_column(col, justify="left" if col in ("table", "quarantine reasons") else "right")
    for t in report.tables.values():
        reasons = ", ".join(f"{rule} {n}" for rule, n in t.rules.most_common())
        table.add_row(
            t.table, f"{t.read:,}", f"{t.accepted:,}", f"{t.quarantined:,}", f"{t.blank:,}", reasons
        )
    console.print(table)
    for t in report.tables.values():
        if t.ignored_columns:
            console.print(
                f"{t.table}: ignored columns (kolom diabaikan): {', '.join(t.ignored_columns)}"
            )
    for name in report.unrecognised:
        console.print(f"[yellow]Not a ledger table, skipped (bukan tabel buku besar):[/] {name}")
    if any(t.quarantined for t in report.tables.values()):
        console.print(f"Quarantined rows and their reasons: {out / 'quarantine'}")


@app.command("quarantine")
def quarantine(
    ledger: Annotated[Path, typer.Option("--ledger", help="Ledger folder made by `import`.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Workbook to write (.xlsx); default LEDGER/quarantine.xlsx."),
    ] = None,
) -> None:
    """Write the quarantined rows to an XLSX workbook for the treasurer: her headers and cells
    as typed, file and row number, the reason in Indonesian and English (NIK/HP hidden)."""
    from features.ledger.quarantine_book import sheet_name, write_quarantine_xlsx

    target = out if out is not None else ledger / "quarantine.xlsx"
    if target.suffix.lower() != ".xlsx":
        raise _fail(f"--out must be a .xlsx workbook; got {target.name}")
    try:
        counts = write_quarantine_xlsx(ledger, target)
    except LedgerNotFoundError as exc:
        raise _fail(str(exc)) from exc
    except OSError as exc:
        raise _fail(f"cannot write {target}: {exc.strerror or exc}") from exc
    for table, n in counts.items():
        console.print(f"{sheet_name(table)} ({table}): {plural(n, 'row')}", markup=False)
    if not counts:
        console.print("Nothing was quarantined (tidak ada baris yang dikarantina).")
    console.print(f"Wrote {target}", markup=False)


@app.command("export")
def export(
    ledger: Annotated[Path, typer.Option("--ledger", help="Ledger folder.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for CSV files, or a .xlsx path.")],
) -> None:
    """Write the ledger back to CSV files or an XLSX workbook (import gives it back unchanged)."""
    if out.suffix and out.suffix.lower() != ".xlsx" and not out.is_dir():
        raise _fail(
            f"--out must be a folder for CSV files (a path without a suffix) or a .xlsx "
            f"workbook; got {out.name}"
        )
    try:
        counts = export_ledger(ledger, out)
    except (LedgerNotFoundError, ExportError) as exc:
        raise _fail(str(exc)) from exc
    console.print(
        f"Wrote {plural(sum(counts.values()), 'row')} of {plural(len(counts), 'table')} to {out}"
    )


features_app = typer.Typer(help="Point-in-time profiles and training tables.", no_args_is_help=True)
app.add_typer(features_app, name="features")


@features_app.command("build")
def features_build(
    ledger: Annotated[Path, typer.Option("--ledger", help="Ledger folder.")],
    out: Annotated[Path, typer.Option("--out", help="Where training rows and profiles go.")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Date of the current profiles (YYYY-MM-DD), inside the ledger's history; "
            "default: the ledger's as-of day.",
        ),
    ] = None,
    engine: Annotated[str, typer.Option(help="local or dask.")] = "local",
    workers: Annotated[
        int, typer.Option(help="Worker processes (local engine or a local Dask cluster).")
    ] = 2,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of an existing Dask scheduler.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Rebuild partitions already built.")] = False,
) -> None:
    """Build the training table (one row per application) and current member profiles."""
    from features.pipeline import AsOfOutOfRangeError

    if engine not in ("local", "dask"):
        raise _fail(f"--engine must be local or dask; got {engine!r}")
    if workers < 1:
        raise _fail(f"--workers must be at least 1; got {workers}")
    try:
        when = pd.Timestamp(as_of) if as_of else None
    except ValueError as exc:
        raise _fail(f"--as-of must be a date YYYY-MM-DD; got {as_of!r}") from exc
    try:
        with _step("Building profiles and the training table"):
            report = build_features(
                ledger,
                out,
                when,
                engine="dask" if engine == "dask" else "local",
                workers=workers,
                scheduler=scheduler,
                force=force,
            )
    except (LedgerNotFoundError, AsOfOutOfRangeError) as exc:
        raise _fail(str(exc)) from exc
    if report.rebuilt_because:
        console.print(f"Rebuilt every partition: {report.rebuilt_because}")
    rows = sum(int(b["training_rows"]) for b in report.built)
    as_of_day = report.as_of.date() if report.as_of is not None else "?"
    console.print(
        f"Built {plural(len(report.built), 'partition')} ({plural(rows, 'application')}, "
        f"{plural(report.ledger_rows, 'ledger row')}) in {report.seconds:.1f} s; "
        f"{len(report.skipped):,} already built; profiles as of {as_of_day}"
    )
    for coop, reason in report.failed.items():
        err.print(f"[bold red]Partition {coop} failed:[/] {reason}")
    if report.failed:
        err.print("Fix the partitions above and run again: only missing partitions are rebuilt.")
        raise typer.Exit(1)


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise _fail(f"--table {path} does not exist")
    if path.suffix.lower() == ".parquet":
        return pd.read_parquet(path)
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path)
    raise _fail(f"--table must be a .csv or .parquet file; got {path.name}")


def _print_training(report: dict[str, object], where: str) -> None:
    def fig(key: str, fmt: str = ".3f") -> str:
        value = report.get(key)
        return "n/a" if value is None else format(float(value), fmt)  # type: ignore[arg-type]

    dropped = report.get("columns_dropped") or {}
    assert isinstance(dropped, dict)
    for column, why in dropped.items():
        console.print(f"Not a feature: {column} ({why})", soft_wrap=True)
    chosen = report.get("family_selection")
    if isinstance(chosen, dict):
        console.print(
            f"Shipped family: {chosen['chosen']} (on {chosen['on']}: LightGBM AUC "
            f"{chosen['lightgbm_auc']:.3f}, WoE scorecard {chosen['woe_scorecard_auc']:.3f}); "
            f"refit on {report.get('refit')}",
            soft_wrap=True,
        )
    out_of_fold = str(report.get("evaluation", "")).startswith("out")
    where_from = "Out-of-fold" if out_of_fold else "Test period"
    console.print(
        f"{where_from} AUC {fig('auc')} (WoE scorecard {fig('auc_woe_baseline')}), "
        f"Brier {fig('brier', '.4f')}, calibration error {fig('calibration_error', '.4f')}, "
        f"grades monotone: {report.get('grades_monotone')}"
    )
    versus = report.get("oracle")
    if isinstance(versus, dict):
        share, target = versus["auc_share_of_oracle"], versus["auc_share_target"]
        console.print(
            f"Generated data: the oracle's AUC on the same test loans is "
            f"{versus['oracle_test_auc']:.3f}; the model reaches {share:.1%} of it "
            f"(target at least {target:.0%}: {'met' if share >= target else 'not met'})",
            soft_wrap=True,
        )
        if "held_out_auc_share_of_oracle" in versus:
            console.print(
                f"Held-out city ({versus['held_out_labelled_loans']:,.0f} labelled loans of a "
                "city generated with another seed): AUC "
                f"{versus['held_out_auc']:.3f} against the oracle's "
                f"{versus['held_out_oracle_auc']:.3f}, {versus['held_out_auc_share_of_oracle']:.1%}"
                f" of it; calibration error {versus['held_out_calibration_error']:.4f}",
                soft_wrap=True,
            )
        if "held_out_refer_share" in versus:
            console.print(
                f"Held-out city decisions: approve {versus['held_out_approve_share']:.1%}, "
                f"refer {versus['held_out_refer_share']:.1%}, decline "
                f"{versus['held_out_decline_share']:.1%}; grade A-B approved at least "
                f"{versus['held_out_top_grades_approved_min']:.1%} in every profile; "
                f"approval ratio by gender {versus['held_out_four_fifths_gender']:.2f}, by "
                "profile at equal risk "
                f"{versus['held_out_equal_risk_ratio_cooperative_profile']:.2f}",
                soft_wrap=True,
            )
        if "reason_fidelity_top3_all" in versus:
            console.print(
                "Reason fidelity: the true main adverse driver is among the top 3 adverse "
                f"reasons for {versus['reason_fidelity_top3_all']:.1%} of test loans, "
                f"{versus.get('reason_fidelity_top3_referred_or_declined', float('nan')):.1%} "
                "of those referred or declined (chance "
                f"{versus['reason_fidelity_chance_top3_all']:.1%}); top 1: "
                f"{versus['reason_fidelity_top1_all']:.1%}",
                soft_wrap=True,
            )
    _print_decisions(report.get("policy_figures"))
    fairness = report.get("fairness", {})
    assert isinstance(fairness, dict)
    for column, fair in fairness.items():
        console.print(_fairness_line(column, fair), soft_wrap=True)
    console.print(where)


def _print_decisions(figures: object) -> None:
    """The policy on the evaluated period: shares, grade A-B approval, and the return."""
    if not isinstance(figures, dict):
        return
    shares = figures["shares"]
    line = (
        f"Decisions: approve {shares['approve']:.1%}, refer {shares['refer']:.1%}, "
        f"decline {shares['decline']:.1%}; grade A-B approved "
        f"{figures['top_grades']['approved']:.1%}"
    )
    position = figures.get("policy")
    if isinstance(position, dict) and position["approved"]:
        line += (
            f"; among approved loans {position['default_rate']:.1%} defaulted, expected return "
            f"{format_rupiah(round(position['expected_return']))} "
            f"({position['expected_return_per_rupiah']:.1%} of the amount lent), realised "
            f"{format_rupiah(round(position['realised_return']))}"
        )
    console.print(line, soft_wrap=True)


def _fairness_line(column: str, fair: dict[str, Any]) -> str:
    """The screen the gate checks for a fairness column, with the other ratio beside it."""

    def ratio(value: float) -> str:
        return "n/a" if value != value else f"{value:.2f}"

    unconditional = fair["four_fifths"]["ratio"]
    equal_risk = fair["grade_adjusted"]["ratio"]
    off = fair["calibration"]["miscalibrated"]
    calibration = f"PD off in {', '.join(off)}" if off else "calibrated in every group"
    if fair["screen"] == "unconditional":
        screened, context = unconditional, f"at equal risk {ratio(equal_risk)}"
        what = "approval-rate ratio"
    else:
        screened, context = equal_risk, f"unconditional {ratio(unconditional)}, context"
        what = "approval-rate ratio at equal risk (within grades)"
    passes = "passes" if screened >= 0.8 else "fails"
    return (
        f"Fairness by {column}: {what} {ratio(screened)} ({passes} the four-fifths screen; "
        f"{context}); {calibration}"
    )


@app.command()
def train(
    features: Annotated[
        Path | None, typer.Option("--features", help="Output of `amanah features build`.")
    ] = None,
    table: Annotated[
        Path | None, typer.Option("--table", help="Bring your own table (.csv or .parquet).")
    ] = None,
    target: Annotated[str | None, typer.Option(help="Binary target column (1 = default).")] = None,
    time_column: Annotated[
        str | None, typer.Option("--time-column", help="Out-of-time split on this date column.")
    ] = None,
    catalog: Annotated[
        Path | None, typer.Option("--catalog", help="JSON with monotone directions per feature.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for a --table model.")] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", help="A --table column that must not be a feature (repeat)."),
    ] = None,
    family: Annotated[
        str,
        typer.Option(help="auto (the one that validates better), lightgbm or woe_scorecard."),
    ] = "auto",
    engine: Annotated[str, typer.Option(help="local or dask.")] = "local",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
) -> None:
    """Train the PD model: on Amanah's training table (registered in MLflow as a challenger)
    or on any table with a binary target (saved to --out)."""
    from features.generator.oracle_comparison import compare_with_oracle
    from models.training import TableError
    from models.workflow import (
        FeaturesNotFoundError,
        read_catalog,
        train_and_register,
        train_on_table,
    )

    if engine not in ("local", "dask"):
        raise _fail(f"--engine must be local or dask; got {engine!r}")
    if (features is None) == (table is None):
        raise _fail("give exactly one of --features DIR or --table FILE")
    if features is not None:
        try:
            trained = train_and_register(
                features, seed=seed, engine=engine, family=family, compare=compare_with_oracle,
                step=_step,
            )  # fmt: skip
        except FeaturesNotFoundError as exc:
            raise _fail(f"--features {exc}") from exc
        except TableError as exc:
            raise _fail(str(exc)) from exc
        _print_training(
            trained.report,
            f"Registered version {trained.version} of amanah-pd as challenger "
            f"(run {trained.run_id})",
        )
        return
    assert table is not None
    if target is None or out is None:
        raise _fail("--table needs --target COLUMN and --out DIR")
    frame = _read_table(table)
    try:
        declared = read_catalog(catalog, frame.columns) if catalog else None
    except TableError as exc:
        raise _fail(f"--catalog {exc}") from exc
    try:
        trained = train_on_table(
            frame, target, time_column, declared, exclude=tuple(exclude or ()), family=family,
            seed=seed, engine=engine, out=out, step=_step,
        )  # fmt: skip
    except TableError as exc:
        raise _fail(str(exc)) from exc
    _print_training(trained.report, f"Model and report written to {out}")


@app.command()
def promote(
    force: Annotated[bool, typer.Option(help="Promote even if the gate fails.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (required with --force).")] = None,
) -> None:
    """Run the promotion gate: challenger vs champion on the same test period."""
    from models.registry import existing_store
    from models.registry import promote as run_gate

    try:
        existing_store()  # promoting reads the store: it never creates one
        with _step("Running the promotion gate"):
            decision = run_gate(force=force, reason=reason)
    except (LookupError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    for name, ok in decision.get("checks", {}).items():
        console.print(f"{'pass' if ok else 'FAIL'}  {name}")
    figures = decision.get("figures", {})
    console.print(
        ", ".join(
            f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in figures.items()
        )
    )
    if decision.get("promoted"):
        console.print(
            f"Promoted version {figures.get('challenger_version')} to champion"
            + (" (forced)" if decision.get("forced") else "")
        )
    else:
        console.print(f"Not promoted: {decision.get('reason') or 'the gate failed'}")
        raise typer.Exit(1)


Lang = Literal["id", "en"]
LANG_OPTION = typer.Option("--lang", help="Language of the reason texts: id or en.")
MODEL_OPTION = typer.Option("--model", help="Model folder or models:/ URI.")
CHAMPION_URI = "models:/amanah-pd@champion"


def _lang(value: str) -> Lang:
    if value not in ("id", "en"):
        raise _fail(f"--lang must be id or en; got {value!r}")
    return "id" if value == "id" else "en"


def _load_model(uri: str) -> AmanahModel:
    from models.registry import load

    try:
        with _step("Loading the model"):
            return load(uri)
    except (LookupError, ValueError) as exc:
        raise _fail(f"--model {uri}: {exc}") from exc


TABLE_SUFFIXES = (".csv", ".parquet", ".json")  # what --out of predict and score-batch writes


def _table_out(out: Path) -> Path:
    """`out`, refused before any work unless its suffix is one `_write_table` writes."""
    if out.suffix.lower() not in TABLE_SUFFIXES:
        raise _fail(
            f"--out must be a {', '.join(TABLE_SUFFIXES[:-1])} or {TABLE_SUFFIXES[-1]} file; "
            f"got {out.name}"
        )
    return out


def _write_table(frame: pd.DataFrame, out: Path) -> None:
    """CSV, Parquet, or JSON records (UTF-8, dates as ISO text), by the suffix."""
    suffix = _table_out(out).suffix.lower()
    out.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".parquet":
        frame.to_parquet(out, index=False)
    elif suffix == ".csv":
        frame.to_csv(out, index=False)
    else:
        text = frame.to_json(orient="records", force_ascii=False, date_format="iso", indent=1)
        out.write_text(text, encoding="utf-8")


@app.command()
def predict(
    model: Annotated[str, MODEL_OPTION],
    table: Annotated[Path, typer.Option("--table", help="Rows to score (.csv or .parquet).")],
    out: Annotated[
        Path, typer.Option("--out", help="Output file (.csv, .parquet or .json records).")
    ],
    lang: Annotated[str, LANG_OPTION] = "id",
) -> None:
    """Write pd, score, grade, the policy decision (rule codes) and the reasons (codes, texts
    in --lang, impacts) for each row."""
    from models.artifact import InputError
    from models.registry import flat_output

    chosen = _lang(lang)
    _table_out(out)
    frame = _read_table(table)
    loaded = _load_model(model)
    try:
        scored = flat_output(loaded.predict(frame, lang=chosen), loaded)
    except InputError as exc:
        raise _fail(str(exc)) from exc
    result = pd.concat([frame, scored], axis=1)
    _write_table(result, out)
    console.print(f"Scored {plural(len(result), 'row')} into {out}")


def _money(amount: object) -> str:

    return "-" if amount is None else format_rupiah(int(amount))  # type: ignore[call-overload]


def print_scored(scored: dict[str, Any], lang: Lang) -> None:
    """The result as an officer reads it: grade, PD, score, decision, reasons by 5C."""
    from features.catalog import FiveC
    from features.wording import format_percent

    text, improve = f"text_{lang}", f"improve_{lang}"
    model = scored["model"]
    decision_words = {
        "id": {"approve": "Setujui", "refer": "Rujuk ke pengurus", "decline": "Tolak"},
        "en": {"approve": "Approve", "refer": "Refer to the board", "decline": "Decline"},
    }[lang]
    label = {
        "id": ("Tingkat risiko", "Skor", "Rekomendasi", "Plafon maksimum", "Angsuran"),
        "en": ("Risk grade", "Score", "Recommendation", "Maximum amount", "Instalment"),
    }[lang]
    decided = decision_words[scored["decision"]]
    offered = scored.get("approved_amount")
    if scored["decision"] == "approve" and offered is not None:
        # a counter-offer reads as one: approve this amount, not the one asked for
        decided += f" {_money(offered)}"
    console.print(
        f"[bold]{label[0]} {scored['grade']}[/]  PD {format_percent(scored['pd'], lang, 1)}  "
        f"{label[1]} {scored['score']}  {label[2]}: [bold]{decided}"
        f"[/]  {label[3]}: {_money(scored['max_recommended_amount'])}  {label[4]}: "
        f"{_money(scored['instalment'])}",
        soft_wrap=True,
    )
    heading = {"id": "Faktor yang memberatkan", "en": "Adverse factors"}[lang]
    console.print(f"[bold]{heading}[/]")
    for group, reasons in scored["reasons_by_five_c"].items():
        adverse = [r for r in reasons if r["direction"] == "adverse"]
        if adverse:
            c = FiveC(group)
            console.print(f"  {c.label_id if lang == 'id' else c.label_en}")
            for r in adverse:
                console.print(f"    - {r[text]} [dim]({r['impact_points']:+.0f})[/]")
    words = {
        "id": ("Faktor yang meringankan", "Cara memperbaiki", "Aturan kebijakan"),
        "en": ("Favourable factors", "How to improve", "Policy rules"),
    }[lang]
    console.print(f"[bold]{words[0]}[/]")
    for r in scored["favourable"]:
        console.print(f"  + {r[text]} [dim]({r['impact_points']:+.0f})[/]")
    console.print(f"[bold]{words[1]}[/]")
    shown_order = [r for rs in scored["reasons_by_five_c"].values() for r in rs]
    for tip in dict.fromkeys(r[improve] for r in shown_order if r["direction"] == "adverse"):
        console.print(f"  * {tip}")
    console.print(f"[bold]{words[2]}[/]")
    rules = ", ".join(scored["rule_codes"])
    console.print(f"  {rules}: {scored[f'reason_{lang}']}", soft_wrap=True)
    stale = " [yellow](stale)[/]" if scored["profile_stale"] else ""
    console.print(
        f"Model {model['name'] or '-'} version {model['version'] or '-'}"
        f"{' @' + model['alias'] if model['alias'] else ''}; policy {model['policy_version']}; "
        f"profile as of {scored['profile_as_of']}{stale}",
        soft_wrap=True,
    )
    review = {
        "id": "Keputusan akhir selalu ditinjau petugas; anggota berhak meminta peninjauan.",
        "en": "An officer reviews every decision; the member may ask for a review.",
    }[lang]
    console.print(f"[dim]{review}[/]")


def _parsed(option: str, value: str, parse: Callable[[str], Any]) -> Any:
    """An option's text as the value the request needs (Rupiah as "5.000.000", "5 juta")."""
    try:
        return parse(value)
    except ValueError as exc:
        raise _fail(f"{option}: cannot read {value!r} ({exc})") from None


@app.command()
def score(
    member: Annotated[str, typer.Option("--member", help="Member id (nomor anggota).")],
    amount: Annotated[str, typer.Option("--amount", help="Loan amount in Rupiah.")],
    tenor: Annotated[str, typer.Option("--tenor", help="Tenor in months.")],
    purpose: Annotated[str, typer.Option("--purpose", help="Purpose, e.g. modal_usaha.")],
    product: Annotated[str, typer.Option("--product", help="Loan product.")] = "working_capital",
    rate: Annotated[
        str, typer.Option("--rate", help="Flat monthly rate as a fraction (0.015 = 1,5%).")
    ] = "0.015",
    features: Annotated[
        Path, typer.Option("--features", help="Features folder with the current profiles.")
    ] = Path("data/demo-features"),
    model: Annotated[str, MODEL_OPTION] = CHAMPION_URI,
    lang: Annotated[str, LANG_OPTION] = "id",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    declared_income: Annotated[
        str | None,
        typer.Option("--declared-income", help="Monthly income the member declared (Rupiah)."),
    ] = None,
    declared_expenses: Annotated[
        str | None,
        typer.Option("--declared-expenses", help="Household expenses she declared (Rupiah)."),
    ] = None,
    income_verified: Annotated[
        bool | None,
        typer.Option(
            "--income-verified/--income-not-verified",
            help="Whether an officer verified the declared figures.",
        ),
    ] = None,
) -> None:
    """Score one application from the current profile store, as an officer at the counter."""
    import json as _json

    from features.application import LoanRequest, LoanRequestError
    from features.ledger.parsing import parse_rate, parse_rupiah
    from features.profile_store import ProfileStore, ProfileStoreError
    from serving.scoring import ScoringError, score_application

    chosen = _lang(lang)
    try:
        request = LoanRequest(
            amount=_parsed("--amount", amount, parse_rupiah),
            tenor_months=_parsed("--tenor", tenor, lambda t: int(t.strip())),
            purpose=purpose,
            product=product,
            flat_monthly_rate=_parsed("--rate", rate, parse_rate),
            declared_monthly_income=None
            if declared_income is None
            else _parsed("--declared-income", declared_income, parse_rupiah),
            declared_household_expenses=None
            if declared_expenses is None
            else _parsed("--declared-expenses", declared_expenses, parse_rupiah),
            income_verified=income_verified,
        )
        store = ProfileStore(features)
    except (LoanRequestError, ProfileStoreError) as exc:
        raise _fail(str(exc)) from exc
    loaded = _load_model(model)
    try:
        scored = score_application(loaded, store, member, request, lang=chosen)
    except (ScoringError, LoanRequestError) as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        typer.echo(_json.dumps(scored, indent=2, ensure_ascii=False, default=str))
    else:
        print_scored(scored, chosen)


@app.command("score-batch")
def score_batch(
    applications: Annotated[
        Path, typer.Option("--applications", help="Applications (.csv or .parquet).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Output file (.csv, .parquet or .json records).")
    ],
    features: Annotated[
        Path, typer.Option("--features", help="Features folder with the current profiles.")
    ] = Path("data/demo-features"),
    model: Annotated[str, MODEL_OPTION] = CHAMPION_URI,
    lang: Annotated[str, LANG_OPTION] = "id",
    engine: Annotated[str, typer.Option(help="local or dask.")] = "local",
    workers: Annotated[int, typer.Option(help="Workers of a local Dask cluster.")] = 2,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of an existing Dask scheduler.")
    ] = None,
) -> None:
    """Score a file of applications (member_id, amount, tenor_months, purpose, product,
    flat_monthly_rate, application_date) with reasons, locally or on a Dask cluster."""
    from features.application import LoanRequestError
    from features.profile_store import ProfileStoreError
    from serving.scoring import score_batch as run_batch

    chosen = _lang(lang)
    if engine not in ("local", "dask"):
        raise _fail(f"--engine must be local or dask; got {engine!r}")
    _table_out(out)
    requests = _read_table(applications)
    loaded = _load_model(model)
    try:
        with _step(f"Scoring {plural(len(requests), 'application')}"):
            scored = run_batch(
                loaded, features, requests, lang=chosen,
                engine="dask" if engine == "dask" else "local", workers=workers,
                scheduler=scheduler,
            )  # fmt: skip
    except (LoanRequestError, ProfileStoreError) as exc:
        raise _fail(f"--applications {applications}: {exc}") from exc
    _write_table(scored, out)
    counts = scored["decision"].value_counts().to_dict()
    console.print(
        f"Scored {plural(len(scored), 'application')} into {out}: "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )


@app.command()
def report(
    model: Annotated[str, MODEL_OPTION] = CHAMPION_URI,
    out: Annotated[Path, typer.Option("--out", help="HTML file to write.")] = Path(
        "validation_report.html"
    ),
) -> None:
    """Write the validation report (one self-contained HTML file) of a registered version."""
    from models.registry import write_version_report

    if out.suffix.lower() != ".html":
        raise _fail(f"--out must be an .html file; got {out.name}")
    try:
        with _step("Writing the validation report"):
            written = write_version_report(model, out)
    except (LookupError, ValueError) as exc:
        raise _fail(f"--model {model}: {exc}") from exc
    console.print(f"Validation report written to {written}")


db_app = typer.Typer(help="The store (SQLite file or PostgreSQL).", no_args_is_help=True)
app.add_typer(db_app, name="db")
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
partners_app = typer.Typer(help="Partners (mitra) calling the API.", no_args_is_help=True)
app.add_typer(partners_app, name="partners")
keys_app = typer.Typer(
    help="Partners' API keys (shown once, kept as a hash).", no_args_is_help=True
)
app.add_typer(keys_app, name="keys")
officers_app = typer.Typer(
    help="Officers (petugas) who log in to the web console.", no_args_is_help=True
)
app.add_typer(officers_app, name="officers")
DB_URL_OPTION = typer.Option(
    "--url", help="Database URL; default AMANAH_DATABASE_URL, else data/amanah.db."
)


@app.command()
def monitor(
    features: Annotated[
        Path, typer.Option("--features", help="Features folder built from a recent ledger.")
    ] = Path("data/demo-features"),
    model: Annotated[str, MODEL_OPTION] = CHAMPION_URI,
    since: Annotated[
        str | None,
        typer.Option(
            help="First application day to monitor, YYYY-MM-DD (default: the day after the "
            "newest application the model was developed on)."
        ),
    ] = None,
    url: Annotated[str | None, DB_URL_OPTION] = None,
    engine: Annotated[str, typer.Option(help="local or dask.")] = "local",
    workers: Annotated[int, typer.Option(help="Dask workers (with --engine dask).")] = 2,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of a running Dask scheduler.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="HTML report to write.")] = Path(
        "monitoring.html"
    ),
    log: Annotated[
        bool, typer.Option("--log/--no-log", help="Log the figures on the model's MLflow run.")
    ] = True,
) -> None:
    """Drift of inputs and score, outcomes of matured loans, decisions and reasons; exit 1
    when a threshold is crossed (for a scheduler to alert on), 2 on bad input."""
    from serving.monitor import MonitorError
    from serving.monitor import run as run_monitor

    if engine not in ("local", "dask"):
        raise _fail(f"--engine must be local or dask; got {engine!r}")
    if workers < 1:
        raise _fail(f"--workers must be at least 1; got {workers}")
    start = None if since is None else _parsed("--since", since, _day)
    try:
        with _step("Monitoring the model"):
            found = run_monitor(
                features, model, out, since=start, store_url=url,
                engine="dask" if engine == "dask" else "local", workers=workers,
                scheduler=scheduler, log=log,
            )  # fmt: skip
    except (MonitorError, LookupError) as exc:
        raise _fail(str(exc)) from exc
    print_monitoring(found)
    if found.alerts:
        raise typer.Exit(1)


def _day(value: str) -> pd.Timestamp:
    from datetime import date

    return pd.Timestamp(date.fromisoformat(value))


def print_monitoring(found: MonitorRun) -> None:
    """The monitor's summary: counts, the score and the largest shifts, outcomes, alerts."""
    m = found.model
    console.print(
        f"{m.get('name') or 'model'} v{m.get('version') or '-'}: "
        f"{plural(found.recent_rows, 'application')} since {found.since.date()} "
        f"({found.matured_rows} matured) against {found.reference_rows} training rows"
    )
    table = Table("", "PSI", "status")
    table.add_row("score", f"{found.score.psi:.3f}", found.score.status)
    for d in found.features[:8]:
        table.add_row(d.name, f"{d.psi:.3f}", d.status)
    console.print(table)
    if found.book is not None:
        z = found.book.z
        console.print(
            f"matured loans: {found.book.observed} defaults, {found.book.expected:.1f} expected"
            + ("" if z is None else f" (z {z:+.2f})")
        )
    if found.served is not None and found.served.scores == 0:
        console.print(f"served scores: none by this version since {found.since.date()}")
    elif found.served is not None:
        rate = found.served.rates.override_rate
        served = found.served.score
        small = ", small sample" if served.small_sample else ""
        console.print(
            f"served scores: {found.served.scores}, score PSI {served.psi:.3f} "
            f"({served.status}{small}), "
            f"overridden {'n/a' if rate is None else f'{100 * rate:.1f}%'}"
        )
    for note in found.notes:
        console.print(f"note: {note}")
    for alert in found.alerts:
        console.print(f"[red]ALERT[/red] {alert.code}: {alert.text_en}")
    if not found.alerts:
        console.print("no threshold crossed")
    console.print(f"report: {found.report}")


@app.command()
def portfolio(
    cooperative: Annotated[str, typer.Option("--cooperative", help="Cooperative id.")],
    features: Annotated[
        Path, typer.Option("--features", help="Features folder with the current profiles.")
    ] = Path("data/demo-features"),
    ledger: Annotated[
        Path | None,
        typer.Option("--ledger", help="Ledger folder (default: the one the features came from)."),
    ] = None,
    model: Annotated[str, MODEL_OPTION] = CHAMPION_URI,
    bank_instalment: Annotated[
        str | None,
        typer.Option(
            "--bank-instalment",
            help="The cooperative's monthly instalment to its bank, Rupiah (default: assumed "
            "from a Himbara loan the size of the book, 6% a year, 36 months).",
        ),
    ] = None,
    shock_rate: Annotated[
        str, typer.Option("--shock-rate", help="Share of members hit by a personal shock.")
    ] = "0.10",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """The cooperative's book: outstanding and arrears by kolektibilitas, expected loss, and
    the same under stress against its own bank instalment."""
    from dataclasses import asdict

    from features.ledger.parsing import parse_rupiah
    from features.pipeline import source_ledger
    from features.profile_store import ProfileStoreError
    from models.portfolio import read_portfolio

    rate = _parsed("--shock-rate", shock_rate, _share)
    instalment = None if bank_instalment is None else _parsed(
        "--bank-instalment", bank_instalment, parse_rupiah
    )  # fmt: skip
    if instalment is not None and instalment < 0:
        raise _fail(f"--bank-instalment cannot be negative; got {bank_instalment}")
    root = ledger or source_ledger(features)
    if root is None:
        raise _fail(f"--features {features} does not say which ledger it came from; give --ledger")
    loaded = _load_model(model)
    try:
        with _step(f"Reading the book of {cooperative}"):
            found = read_portfolio(loaded, root, features, cooperative, instalment, rate)
    except KeyError:
        raise _fail(
            f"--cooperative {cooperative}: the ledger {root} holds no such cooperative"
        ) from None
    except (LedgerNotFoundError, ProfileStoreError) as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        console.print_json(data=asdict(found))
        return
    print_portfolio(found)


def _share(value: str) -> float:
    share = float(value.replace(",", "."))
    if not 0.0 <= share <= 1.0:
        raise ValueError("a share between 0 and 1, such as 0.10")
    return share


def print_portfolio(found: Portfolio) -> None:
    """The book as it stands and under stress, in Rupiah."""
    console.print(
        f"{found.cooperative_id} as of {found.as_of}: {found.open_loans} open loans "
        f"({found.performing_loans} performing), outstanding principal "
        f"{_money(found.outstanding_principal)}; loss given default "
        f"{100 * found.loss_given_default:.0f}%"
    )
    if found.bands is not None:
        bands = Table("kolektibilitas", "loans", "owed (principal and interest)", "arrears")
        for k in found.bands.bands:
            bands.add_row(str(k.kolektibilitas), str(k.loans), _money(k.outstanding),
                          _money(k.arrears))  # fmt: skip
        console.print(bands)
        console.print(
            f"NPL (kolektibilitas 3-5): {100 * found.bands.npl_ratio:.1f}% of outstanding"
        )
    assumed = " (assumed: 6% a year, 36 months)" if found.bank_instalment_assumed else ""
    console.print(f"bank instalment {_money(found.bank_instalment)} a month{assumed}")
    table = Table("scenario", "expected defaults", "expected loss", "instalments in (12 m)",
                  "due to the bank", "coverage")  # fmt: skip
    names = {s.code: s.text_en for s in found.scenarios} | {"base": "as it stands"}
    for r in [found.base, *found.stressed]:
        cover = "n/a" if r.coverage is None else f"{100 * r.coverage:.0f}%"
        table.add_row(names[r.scenario], f"{r.expected_defaults:.1f}", _money(r.expected_loss),
                      _money(r.collections), _money(r.bank_due), cover)  # fmt: skip
    console.print(table)


@db_app.command("upgrade")
def db_upgrade(url: Annotated[str | None, DB_URL_OPTION] = None) -> None:
    """Create or migrate the store's tables to the newest revision."""
    from serving.store import StoreError, database_url, upgrade

    try:
        reached = upgrade(url or database_url())
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    console.print(f"database at revision {reached}")


@audit_app.command("verify")
def audit_verify(url: Annotated[str | None, DB_URL_OPTION] = None) -> None:
    """Check the whole audit chain; name the first broken entry (exit 1)."""
    from serving.audit import verify_url
    from serving.store import StoreError

    try:
        result = verify_url(url)
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    if not result.intact:
        err.print(
            f"[bold red]audit chain broken at entry {result.broken_seq}[/] "
            f"({result.problem}): {result.detail}; {plural(result.entries, 'entry', 'entries')} "
            "before it intact"
        )
        raise typer.Exit(1)
    console.print(f"audit chain intact: {plural(result.entries, 'entry', 'entries')}")


def _cli_actor() -> str:
    """Who ran the command, for the audit trail: "cli:" and the operating-system user."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in some containers
        return "cli:unknown"


@contextmanager
def _store_session(url: str | None, *, create: bool) -> Iterator[Session]:
    """A session in one transaction on the store at `url`; with `create`, an empty database
    is migrated first (`db upgrade`), else a missing store is an error (reading never
    creates one). Store and lookup errors end the command with one line, exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from serving.security import MemberRefError, ScopeError
    from serving.store import (
        NotFoundError,
        RepoValueError,
        StoreError,
        current_revision,
        database_url,
        make_engine,
        sessions,
        upgrade,
    )
    from serving.store.database import require_store, unreachable

    chosen = url or database_url()
    try:
        if create and current_revision(chosen) is None:
            upgrade(chosen)
        require_store(chosen)
        engine = make_engine(chosen)
    except StoreError as exc:
        raise _fail(str(exc)) from exc
    try:
        with sessions(engine).begin() as session:
            yield session
    except (NotFoundError, RepoValueError, ScopeError, MemberRefError) as exc:
        raise _fail(str(exc)) from exc
    except SQLAlchemyError as exc:
        raise _fail(unreachable(chosen, exc)) from exc
    finally:
        engine.dispose()


@partners_app.command("add")
def partners_add(
    name: Annotated[str, typer.Argument(help="The partner's name (unique).")],
    grant: Annotated[
        list[str] | None,
        typer.Option("--grant", help="A cooperative the partner may score; repeatable."),
    ] = None,
    url: Annotated[str | None, DB_URL_OPTION] = None,
) -> None:
    """Add a partner, optionally granted cooperatives; prints the partner id."""
    from serving.store import add_partner
    from serving.store import grant as grant_cooperative

    actor = _cli_actor()
    with _store_session(url, create=True) as session:
        partner = add_partner(session, name, actor=actor)
        for cooperative_id in grant or []:
            grant_cooperative(session, partner, cooperative_id, actor=actor)
    granted = f"; granted {', '.join(grant)}" if grant else ""
    console.print(f"partner {partner.id} ({partner.name}){granted}", markup=False)


@keys_app.command("create")
def keys_create(
    partner: Annotated[str, typer.Option("--partner", help="The partner's id (ptn_...).")],
    scope: Annotated[
        list[str],
        typer.Option(
            "--scope", help="scores:write, scores:read, batches, consents or admin; repeatable."
        ),
    ],
    url: Annotated[str | None, DB_URL_OPTION] = None,
) -> None:
    """Create an API key for a partner and print it once: only its hash is kept."""
    from serving.security import ScopeError, parse_scopes
    from serving.store import create_key

    try:
        parse_scopes(scope)  # before the store is touched
    except ScopeError as exc:
        raise _fail(f"--scope: {exc}") from exc
    with _store_session(url, create=True) as session:
        row, key = create_key(session, partner, scope, actor=_cli_actor())
    console.print(
        f"key {row.prefix} for partner {row.partner_id}, scopes {', '.join(row.scopes)}:",
        markup=False, highlight=False,
    )  # fmt: skip
    console.print(key, markup=False, highlight=False)
    console.print(
        "Store this key now: it cannot be shown again (only its hash is kept).",
        markup=False, highlight=False,
    )  # fmt: skip


@keys_app.command("revoke")
def keys_revoke(
    prefix: Annotated[str, typer.Argument(help="The key's prefix (amk_live_ and 8 characters).")],
    url: Annotated[str | None, DB_URL_OPTION] = None,
) -> None:
    """Revoke an API key by its prefix: it stops working at once."""
    from serving.store import revoke_key

    with _store_session(url, create=False) as session:
        row = revoke_key(session, prefix, actor=_cli_actor())
    assert row.revoked_at is not None
    console.print(
        f"key {row.prefix} of partner {row.partner_id} revoked "
        f"({row.revoked_at:%Y-%m-%d %H:%M:%S} UTC)",
        markup=False, highlight=False,
    )  # fmt: skip


@keys_app.command("list")
def keys_list(
    partner: Annotated[
        str | None, typer.Option("--partner", help="Only this partner's keys.")
    ] = None,
    url: Annotated[str | None, DB_URL_OPTION] = None,
) -> None:
    """List API keys: prefix, partner, scopes, created, revoked (never a key or its hash)."""
    from serving.store import list_keys

    with _store_session(url, create=False) as session:
        rows = list_keys(session, partner)
    if not rows:
        console.print("no keys")
        return
    table = Table("prefix", "partner", "scopes", "created (UTC)", "revoked (UTC)")
    for column in table.columns[:2]:
        column.no_wrap = True  # ids are looked up by copying them whole
    for row in rows:
        table.add_row(
            row.prefix, row.partner_id, ", ".join(row.scopes),
            f"{row.created_at:%Y-%m-%d %H:%M}",
            f"{row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "-",
        )  # fmt: skip
    console.print(table)


OFFICER_PASSWORD_ENV = "AMANAH_OFFICER_PASSWORD"


def _officer_password() -> str:
    """The new officer's password: from AMANAH_OFFICER_PASSWORD, else typed twice (hidden)
    on a terminal; never an option, so it stays out of the shell's history."""
    import sys

    given = os.environ.get(OFFICER_PASSWORD_ENV)
    if given:
        return given
    if not sys.stdin.isatty():
        raise _fail(f"set {OFFICER_PASSWORD_ENV}, or run on a terminal to type the password")
    typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return typed


@officers_app.command("add")
def officers_add(
    cooperative: Annotated[
        str, typer.Option("--cooperative", help="The officer's cooperative id (as in the ledger).")
    ],
    username: Annotated[
        str, typer.Option("--username", help="Login name: 3 to 64 of a-z, 0-9, '.', '_', '-'.")
    ],
    name: Annotated[str, typer.Option("--name", help="The name the console shows.")],
    role: Annotated[str, typer.Option("--role", help="officer or supervisor.")] = "officer",
    url: Annotated[str | None, DB_URL_OPTION] = None,
) -> None:
    """Add a console officer; the password comes from AMANAH_OFFICER_PASSWORD or is typed
    twice. The cooperative id is checked for shape only (the store lists no cooperatives)."""
    from serving.officers import OfficerError, add_officer

    password = _officer_password()
    try:
        with _store_session(url, create=True) as session:
            officer = add_officer(
                session, cooperative_id=cooperative, username=username, display_name=name,
                password=password, role=role, actor=_cli_actor(),
            )  # fmt: skip
    except OfficerError as exc:
        raise _fail(str(exc)) from exc
    console.print(
        f"officer {officer.id} ({officer.username}, {officer.role}) of cooperative "
        f"{officer.cooperative_id}",
        markup=False, highlight=False,
    )  # fmt: skip


@officers_app.command("list")
def officers_list(
    cooperative: Annotated[
        str | None, typer.Option("--cooperative", help="Only this cooperative's officers.")
    ] = None,
    url: Annotated[str | None, DB_URL_OPTION] = None,
) -> None:
    """List console officers: id, cooperative, username, name, role, created, state
    (never a password or its hash)."""
    from datetime import UTC, datetime

    from rich.text import Text

    from serving.officers import list_officers

    with _store_session(url, create=False) as session:
        rows = list_officers(session, cooperative)
    if not rows:
        console.print("no officers")
        return
    now = datetime.now(UTC)
    table = Table("id", "cooperative", "username", "name", "role", "created (UTC)", "state")
    for column in table.columns[:3]:
        column.no_wrap = True  # ids are looked up by copying them whole
    for row in rows:
        if row.disabled_at is not None:
            state = f"disabled {row.disabled_at:%Y-%m-%d %H:%M}"
        elif row.locked_until is not None and row.locked_until > now:
            state = f"locked until {row.locked_until:%Y-%m-%d %H:%M}"
        else:
            state = "active"
        # Text, not markup: a name holding "[...]" is shown as typed
        table.add_row(
            row.id, row.cooperative_id, row.username, Text(row.display_name), row.role,
            f"{row.created_at:%Y-%m-%d %H:%M}", state,
        )  # fmt: skip
    console.print(table)


MAX_WORKERS = 64


def _serve_address(host: str, port: str, workers: str) -> tuple[int, int]:
    """The port and worker count read, and the host checked to resolve; one line, exit 2,
    for anything unusable (typer's own usage box is several lines)."""
    import socket

    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise _fail(f"--port: {port!r} is not a port number (1-65535)")
    if not workers.isdigit() or not 1 <= int(workers) <= MAX_WORKERS:
        raise _fail(f"--workers: {workers!r} is not a number of workers (1-{MAX_WORKERS})")
    try:
        socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise _fail(f"--host: {host!r} is not an address to listen on ({exc})") from None
    return int(port), int(workers)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[str, typer.Option("--port", help="Port to listen on.")] = "8000",
    workers: Annotated[str, typer.Option("--workers", help="Worker processes.")] = "1",
    pin: Annotated[
        bool,
        typer.Option(
            "--pin/--no-pin",
            help="Each worker on a CPU of its own (Linux); --no-pin leaves them to the scheduler.",
        ),
    ] = True,
) -> None:
    """Serve the scoring API with uvicorn (docs at /docs); an empty database is migrated."""
    import secrets

    import uvicorn

    from serving.app import prepared_engine
    from serving.config import SettingsError, load_settings
    from serving.cpu_pinning import SLOTS_ENV
    from serving.store import StoreError, database_url

    port_number, worker_count = _serve_address(host, port, workers)
    # checked here so a bad setting or store is one line, not a trace from each worker
    try:
        prepared_engine(database_url(load_settings())).dispose()
    except (SettingsError, StoreError) as exc:
        raise _fail(str(exc)) from exc
    if pin:  # read by each worker (`serving.cpu_pinning`)
        os.environ[SLOTS_ENV] = secrets.token_hex(8)
    uvicorn.run(
        "serving.app:create_app", factory=True, host=host, port=port_number,
        workers=worker_count,
    )  # fmt: skip


if __name__ == "__main__":
    app()
