"""The command line's refusals: one line naming the option, the file or the store and what to
do, exit code 2, never a traceback; the MLflow store found the same way from any folder and
never created by a command that only reads; output files that are what their names say."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner, Result

from features import settings as settings_module
from features.settings import get_settings
from models import registry
from models.registry import MODEL_NAME, default_store, existing_store, project_root, tracking_uri
from models.workflow import train_on_table
from serving.cli import app
from tests.test_models import _own_table

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _refused(result: Result, *words: str) -> str:
    """The one-line error of a refused command (exit 2, no traceback), checked for `words`."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: "), lines
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


@pytest.fixture()
def store_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """AMANAH_MLFLOW_TRACKING_URI pointing at a SQLite file that does not exist (yet)."""
    db = tmp_path / "store" / "mlflow.db"
    monkeypatch.setenv("AMANAH_MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def table_model(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A bring-your-own-table model folder and the table it scores (CSV)."""
    folder = tmp_path_factory.mktemp("byo")
    frame = _own_table(1200, seed=5)
    frame.to_csv(folder / "own.csv", index=False)
    train_on_table(frame, "y", out=folder / "model", max_rounds=60)
    return folder / "model", folder / "own.csv"


# ------------------------------------------------------------------ where the store is
def test_the_store_is_the_projects_from_any_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AMANAH_MLFLOW_TRACKING_URI", raising=False)
    get_settings.cache_clear()
    try:
        monkeypatch.chdir(tmp_path)
        assert project_root() == ROOT
        assert default_store() == ROOT / "mlflow"
        assert tracking_uri() == f"sqlite:///{ROOT / 'mlflow' / 'mlflow.db'}"
        assert not (tmp_path / "mlflow").exists()
        monkeypatch.setenv("AMANAH_MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
        get_settings.cache_clear()
        assert tracking_uri() == "http://mlflow.example:5000"
        assert tracking_uri("sqlite:////elsewhere/m.db") == "sqlite:////elsewhere/m.db"
    finally:
        get_settings.cache_clear()


def test_outside_the_package_the_project_is_found_upwards_from_the_current_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A non-editable install: the package's files are not in the project."""
    monkeypatch.delenv("AMANAH_MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(
        settings_module, "__file__", str(tmp_path / "site-packages/features/settings.py")
    )
    project = tmp_path / "work" / "amanah"
    (project / "notebooks" / "deep").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[project]\nname = "amanah"\n', "utf-8")
    other = tmp_path / "work" / "other"
    other.mkdir()
    (other / "pyproject.toml").write_text('[project]\nname = "something-else"\n', "utf-8")
    get_settings.cache_clear()
    try:
        monkeypatch.chdir(project / "notebooks" / "deep")
        assert project_root() == project.resolve()
        assert default_store() == project.resolve() / "mlflow"
        monkeypatch.chdir(other)  # another project's pyproject.toml is not Amanah's
        assert project_root() is None
        assert default_store() == other.resolve() / "mlflow"
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize(
    "command",
    [
        ["predict", "--model", "models:/amanah-pd@champion", "--table", "{table}", "--out",
         "{tmp}/o.csv"],
        ["score", "--member", "KMP-0001-000001", "--amount", "5000000", "--tenor", "12",
         "--purpose", "stock", "--features", "{features}"],
        ["score-batch", "--applications", "{table}", "--out", "{tmp}/o.csv", "--features",
         "{features}"],
        ["report", "--out", "{tmp}/r.html"],
        ["promote"],
    ],
    ids=["predict", "score", "score-batch", "report", "promote"],
)  # fmt: skip
def test_commands_that_read_a_model_never_create_a_store(
    command: list[str], store_env: Path, table_model: tuple[Path, Path],
    medium_features: Path, tmp_path: Path,
) -> None:  # fmt: skip
    args = [a.format(table=table_model[1], tmp=tmp_path, features=medium_features) for a in command]
    line = _refused(runner.invoke(app, args), f"no MLflow store at {store_env}",
                    "AMANAH_MLFLOW_TRACKING_URI", "amanah demo")  # fmt: skip
    assert "--model" in line or command == ["promote"]
    assert not store_env.exists() and not store_env.parent.exists()


def test_without_a_store_the_message_names_the_projects_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AMANAH_MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(registry, "default_store", lambda: tmp_path / "mlflow")
    get_settings.cache_clear()
    try:
        with pytest.raises(registry.StoreNotFoundError) as raised:
            existing_store()
    finally:
        get_settings.cache_clear()
    assert f"no MLflow store at {tmp_path / 'mlflow' / 'mlflow.db'}" in str(raised.value)
    assert "the project's mlflow/ folder" in str(raised.value)
    assert not (tmp_path / "mlflow").exists()


# ------------------------------------------------------------------ unknown models
@pytest.fixture()
def registered_store(store_env: Path, table_model: tuple[Path, Path]) -> Path:
    """A store holding amanah-pd version 1 with the aliases challenger and champion (its
    files need not load: the name and alias are resolved first)."""
    store_env.parent.mkdir(parents=True)
    client = MlflowClient(f"sqlite:///{store_env}")
    client.create_registered_model(MODEL_NAME)
    client.create_model_version(MODEL_NAME, source=str(table_model[0]))
    for alias in ("challenger", "champion"):
        client.set_registered_model_alias(MODEL_NAME, alias, "1")
    return store_env


@pytest.mark.parametrize(
    ("uri", "words"),
    [
        ("models:/nope@champion", ["no registered model named 'nope'", "it holds amanah-pd"]),
        ("models:/amanah-pd@nope", ["no version with alias 'nope'", "challenger, champion"]),
        ("models:/amanah-pd/7", ["no version '7'", "versions: 1"]),
        ("models:/amanah-pd", ["not a model URI", "models:/NAME@ALIAS"]),
        ("no/such/folder", ["neither a model folder nor a models:/ URI"]),
    ],
)
def test_an_unknown_model_name_alias_or_version_is_named(
    registered_store: Path, table_model: tuple[Path, Path], tmp_path: Path,
    uri: str, words: list[str],
) -> None:  # fmt: skip
    args = ["predict", "--model", uri, "--table", str(table_model[1]), "--out",
            str(tmp_path / "o.csv")]  # fmt: skip
    _refused(runner.invoke(app, args), f"--model {uri}", *words)
    report = runner.invoke(app, ["report", "--model", uri, "--out", str(tmp_path / "r.html")])
    _refused(report, f"--model {uri}", *words)
    assert not (tmp_path / "o.csv").exists() and not (tmp_path / "r.html").exists()


# ------------------------------------------------------------------ catalog files
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", ["is not valid JSON", "line 1, column 2"]),
        ("[1, 2]", ["must be a JSON object", '{"features"', "got a list"]),
        ('{"feature": {}}', ["unknown key 'feature'"]),
        ('{"features": ["income"]}', ['"features" must be an object', "got a list"]),
        ('{"features": {"income": 1}}', ["the entry of 'income' must be an object"]),
        ('{"features": {"income": {"monotone": 2}}}', ["monotone of 'income' must be -1, 0 or 1"]),
        ('{"features": {"incme": {"monotone": 1}}}', ["columns the table does not have: incme"]),
    ],
)
def test_a_bad_catalog_file_is_named_before_training(
    table_model: tuple[Path, Path], tmp_path: Path, text: str, words: list[str]
) -> None:
    catalog = tmp_path / "catalog.json"
    catalog.write_text(text, "utf-8")
    args = ["train", "--table", str(table_model[1]), "--target", "y", "--catalog",
            str(catalog), "--out", str(tmp_path / "m")]  # fmt: skip
    _refused(runner.invoke(app, args), f"--catalog {catalog}", *words)
    assert not (tmp_path / "m").exists()


def test_a_missing_catalog_file_is_named(table_model: tuple[Path, Path], tmp_path: Path) -> None:
    args = ["train", "--table", str(table_model[1]), "--target", "y", "--catalog",
            str(tmp_path / "none.json"), "--out", str(tmp_path / "m")]  # fmt: skip
    _refused(runner.invoke(app, args), "none.json does not exist")


# ------------------------------------------------------------------ output files
def test_predict_writes_json_records_in_utf8(
    table_model: tuple[Path, Path], tmp_path: Path
) -> None:
    model, table = table_model
    rows = pd.read_csv(table).head(20)
    rows["nama"] = "Ibu Siti Aisyah — Koperasi Desa Sukamaju"  # kept as written, not escaped
    rows.to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "scored.json"
    result = runner.invoke(app, ["predict", "--model", str(model), "--table",
                                 str(tmp_path / "rows.csv"), "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "— Koperasi".encode() in out.read_bytes()
    records = json.loads(out.read_bytes().decode("utf-8"))
    assert isinstance(records, list) and len(records) == 20
    assert {"nama", "pd", "score", "grade", "decision", "rule_codes", "reason_id"} <= set(
        records[0]
    )
    assert isinstance(records[0]["score"], int) and isinstance(records[0]["pd"], float)
    assert records[0]["nama"] == rows.loc[0, "nama"]


@pytest.mark.parametrize("name", ["scored.txt", "scored.xlsx", "scored"])
def test_predict_refuses_an_output_it_cannot_write(
    table_model: tuple[Path, Path], tmp_path: Path, name: str
) -> None:
    model, table = table_model
    result = runner.invoke(app, ["predict", "--model", str(model), "--table", str(table),
                                 "--out", str(tmp_path / name)])  # fmt: skip
    _refused(result, "--out must be a .csv, .parquet or .json file", f"got {name}")
    assert not (tmp_path / name).exists()


def test_score_batch_refuses_an_output_it_cannot_write(
    table_model: tuple[Path, Path], medium_features: Path, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["score-batch", "--applications", str(table_model[1]), "--out",
                                 str(tmp_path / "o.txt"), "--features", str(medium_features),
                                 "--model", str(table_model[0])])  # fmt: skip
    _refused(result, "--out must be a .csv, .parquet or .json file", "got o.txt")


def test_report_must_be_html(table_model: tuple[Path, Path], tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--model", str(table_model[0]), "--out",
                                 str(tmp_path / "report.pdf")])  # fmt: skip
    _refused(result, "--out must be an .html file", "got report.pdf")
    assert not (tmp_path / "report.pdf").exists()


def test_export_refuses_a_suffix_it_does_not_write(small_ledger: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["export", "--ledger", str(small_ledger), "--out",
                                 str(tmp_path / "out.txt")])  # fmt: skip
    _refused(result, "a folder for CSV files (a path without a suffix)", ".xlsx", "got out.txt")
    assert not (tmp_path / "out.txt").exists()
    result = runner.invoke(app, ["export", "--ledger", str(small_ledger), "--out",
                                 str(tmp_path / "csv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (tmp_path / "csv" / "members.csv").is_file()
