"""The `amanah` command line: one entry point for generating, importing, exporting, demo."""

from __future__ import annotations

import time
from collections.abc import Callable
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
from features.pipeline import build_features, read_training, source_ledger
from features.settings import get_settings

if TYPE_CHECKING:
    from models.artifact import AmanahModel
    from models.training import TrainingResult

app = typer.Typer(
    name="amanah",
    help="Amanah: credit scoring for Koperasi Merah Putih (penilaian kredit koperasi).",
    no_args_is_help=True,
    add_completion=False,
)
console = Console()
err = Console(stderr=True, soft_wrap=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]Error:[/] {message}")
    return typer.Exit(code)


def _pii_key() -> bytes | None:
    key = get_settings().pii_key
    return key.get_secret_value().encode("utf-8") if key is not None else None


def print_summary(summary: LedgerSummary) -> None:
    console.print(
        f"[bold]{summary.cooperatives}[/] cooperatives, [bold]{summary.members:,}[/] members, "
        f"[bold]{summary.loans_disbursed:,}[/] loans disbursed, "
        f"{summary.loans_rejected:,} rejected "
        f"(as of {summary.as_of.date()})"
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
) -> None:
    """Generate a synthetic ledger, with its ground truth kept apart for evaluation."""
    config = GeneratorConfig(cooperatives, members_per_coop, months, start, seed)
    began = time.perf_counter()
    try:
        counts = generate_ledger(out, config, pii_key=_pii_key())
    except GeneratorConfigError as exc:
        raise _fail(str(exc)) from exc
    total = sum(sum(v.values()) for v in counts.values())
    console.print(f"Wrote {total:,} ledger rows to {out} in {time.perf_counter() - began:.1f} s")


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
) -> None:
    """Generate the demo ledger, build profiles and the training table, train the PD model,
    register it in the embedded MLflow store and run the promotion gate."""
    from models.registry import promote as run_gate

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
    report = build_features(out, features_out, ledger.as_of, force=True)
    rows = sum(int(b["training_rows"]) for b in report.built)
    console.print(
        f"Profiles and training table ({rows:,} applications, {len(feature_names())} features, "
        f"3 labels) in "
        f"{features_out} ({report.seconds:.1f} s)"
    )
    from models.training import TableError

    try:
        logged = _train_and_register(features_out, seed=42, engine="local")
    except TableError as exc:
        raise _fail(f"the demo's ledger cannot train a model: {exc}") from exc
    decision = run_gate()
    if decision.get("undefined"):
        raise _fail(f"Not promoted: {decision['reason']}", code=1)
    if not decision.get("promoted"):
        failed = [name for name, ok in decision.get("checks", {}).items() if not ok]
        console.print(
            f"[yellow]Promotion gate failed on: {', '.join(failed)}.[/] The demo promotes "
            "anyway so the console has a champion; the reason is recorded on the version."
        )
        decision = run_gate(force=True, reason=f"demo bootstrap; gate failed on {failed}")
    console.print(f"amanah-pd version {logged['version']} is champion. MLflow store: mlflow/")


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


@app.command("export")
def export(
    ledger: Annotated[Path, typer.Option("--ledger", help="Ledger folder.")],
    out: Annotated[Path, typer.Option("--out", help="Folder for CSV files, or a .xlsx path.")],
) -> None:
    """Write the ledger back to CSV files or an XLSX workbook (import gives it back unchanged)."""
    try:
        counts = export_ledger(ledger, out)
    except (LedgerNotFoundError, ExportError) as exc:
        raise _fail(str(exc)) from exc
    console.print(f"Wrote {sum(counts.values()):,} rows of {len(counts)} tables to {out}")


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
        f"Built {len(report.built)} partitions ({rows:,} applications, "
        f"{report.ledger_rows:,} ledger rows) in {report.seconds:.1f} s; "
        f"{len(report.skipped)} already built; profiles as of {as_of_day}"
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
    fairness = report.get("fairness", {})
    assert isinstance(fairness, dict)
    for column, fair in fairness.items():
        ff = fair["four_fifths"]
        console.print(
            f"Approval-rate ratio by {column}: {ff['ratio']:.2f} (passes: {ff['passes']})"
        )
    console.print(where)


def _train_and_register(
    features: Path, seed: int, engine: str, family: str = "auto"
) -> dict[str, object]:
    """Train on Amanah's training table, log and register a challenger, print the figures.

    On generated data the test AUC is also compared with the generator's oracle on the same
    loans, after training (the model never reads the oracle)."""
    from features.generator.oracle_comparison import compare_with_oracle
    from models.reasons import adverse_factors
    from models.registry import log_training
    from models.training import AMANAH_TARGET, AMANAH_TIME, catalog_spec, train_model

    result = train_model(
        read_training(features), catalog_spec(), AMANAH_TARGET, AMANAH_TIME, seed=seed,
        engine=engine, family=family,
    )  # fmt: skip
    ledger = source_ledger(features)
    versus = None
    if ledger is not None:
        test = result.test

        def reasons() -> tuple[list[list[str]], pd.Series]:
            scored = result.model.predict(test, lang="en")
            return adverse_factors(scored), scored["decision"].isin(["refer", "decline"])

        versus = compare_with_oracle(
            ledger, test["loan_id"], test[AMANAH_TARGET].to_numpy(), result.report["auc"],
            reasons=reasons,
        )  # fmt: skip
    if versus is not None:
        versus.update(_held_out_city(result, features))
        result.report["oracle"] = versus
    logged = log_training(result, source=str(features), extra_metrics=versus)
    _print_training(
        result.report,
        f"Registered version {logged['version']} of amanah-pd as challenger "
        f"(run {logged['run_id']})",
    )
    return logged


def _held_out_city(result: TrainingResult, features: Path) -> dict[str, float]:
    """Generated data: the model judged on every labelled loan of a small city generated
    with another seed (`models.held_out_city.DEMO_HELD_OUT`, cached beside the features),
    the yardstick the test period cannot be; `bench/bench_held_out.py` measures it at size."""
    from features.generator.oracle_comparison import compare_with_oracle
    from models.held_out_city import DEMO_HELD_OUT, city_features, evaluate_on_city

    city = city_features(DEMO_HELD_OUT, features.parent / (features.name + "-held-out-city"))
    figures = evaluate_on_city(result.model, city, compare_with_oracle, result.baseline)
    keys = ("auc", "calibration_error", "labelled_loans", "oracle_auc", "auc_share_of_oracle",
            "default_rate", "mean_pd")  # fmt: skip
    return {f"held_out_{k}": float(figures[k]) for k in keys if k in figures}


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
    import json as _json

    from models.training import TableError, table_spec, train_model, write_report

    if engine not in ("local", "dask"):
        raise _fail(f"--engine must be local or dask; got {engine!r}")
    if (features is None) == (table is None):
        raise _fail("give exactly one of --features DIR or --table FILE")
    try:
        if features is not None:
            if not (features / "training").is_dir():
                raise _fail(
                    f"--features {features} has no training/ folder; run `amanah features build`"
                )
            _train_and_register(features, seed=seed, engine=engine, family=family)
            return
        assert table is not None
        if target is None or out is None:
            raise _fail("--table needs --target COLUMN and --out DIR")
        frame = _read_table(table)
        declared = _json.loads(catalog.read_text("utf-8")) if catalog else None
        spec = table_spec(frame, target, time_column, declared, exclude=tuple(exclude or ()))
        result = train_model(
            frame, spec, target, time_column, seed=seed, engine=engine, family=family
        )
    except TableError as exc:
        raise _fail(str(exc)) from exc
    result.model.save(out)
    write_report(result.report, out / "report.json")
    # what `amanah report --model DIR` needs to write the validation report later
    result.test.to_parquet(out / "test_period.parquet", index=False)
    result.train.to_parquet(out / "train_sample.parquet", index=False)
    _print_training(result.report, f"Model and report written to {out}")


@app.command()
def promote(
    force: Annotated[bool, typer.Option(help="Promote even if the gate fails.")] = False,
    reason: Annotated[str | None, typer.Option(help="Why (required with --force).")] = None,
) -> None:
    """Run the promotion gate: challenger vs champion on the same test period."""
    from models.registry import promote as run_gate

    try:
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
        return load(uri)
    except (LookupError, ValueError) as exc:
        raise _fail(f"--model {uri}: {exc}") from exc


def _write_table(frame: pd.DataFrame, out: Path) -> None:
    if out.suffix.lower() == ".parquet":
        frame.to_parquet(out, index=False)
    elif out.suffix.lower() == ".csv":
        frame.to_csv(out, index=False)
    else:
        raise _fail(f"--out must be a .csv or .parquet file; got {out.name}")


@app.command()
def predict(
    model: Annotated[str, MODEL_OPTION],
    table: Annotated[Path, typer.Option("--table", help="Rows to score (.csv or .parquet).")],
    out: Annotated[Path, typer.Option("--out", help="Output file (.csv or .parquet).")],
    lang: Annotated[str, LANG_OPTION] = "id",
) -> None:
    """Write pd, score, grade, the policy decision (rule codes) and the reasons (codes, texts
    in --lang, impacts as JSON) for each row."""
    from models.artifact import InputError
    from models.registry import flat_output

    chosen = _lang(lang)
    frame = _read_table(table)
    loaded = _load_model(model)
    try:
        scored = flat_output(loaded.predict(frame, lang=chosen), loaded)
    except InputError as exc:
        raise _fail(str(exc)) from exc
    result = pd.concat([frame, scored], axis=1)
    _write_table(result, out)
    console.print(f"Scored {len(result):,} rows into {out}")


def _money(amount: object) -> str:
    from features.wording import format_rupiah

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
    console.print(
        f"[bold]{label[0]} {scored['grade']}[/]  PD {format_percent(scored['pd'], lang, 1)}  "
        f"{label[1]} {scored['score']}  {label[2]}: [bold]{decision_words[scored['decision']]}"
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
    out: Annotated[Path, typer.Option("--out", help="Output file (.csv or .parquet).")],
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
    requests = _read_table(applications)
    loaded = _load_model(model)
    try:
        scored = run_batch(
            loaded, features, requests, lang=chosen,
            engine="dask" if engine == "dask" else "local", workers=workers, scheduler=scheduler,
        )  # fmt: skip
    except (LoanRequestError, ProfileStoreError) as exc:
        raise _fail(f"--applications {applications}: {exc}") from exc
    _write_table(scored, out)
    counts = scored["decision"].value_counts().to_dict()
    console.print(
        f"Scored {len(scored):,} applications into {out}: "
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

    try:
        written = write_version_report(model, out)
    except (LookupError, ValueError) as exc:
        raise _fail(str(exc)) from exc
    console.print(f"Validation report written to {written}")
