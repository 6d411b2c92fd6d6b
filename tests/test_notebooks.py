"""The analysts' notebooks: stored clean and logic-free, and executed in order on small data.

Static checks, per notebook: the `<step>-<description>.ipynb` name, no outputs or execution
counts stored, every code cell valid Python, no function (or lambda) longer than 5 lines
(logic belongs in `features`, `models` or `serving`, where the command line calls it too),
and at least one import of those packages.

Execution: every notebook, in name order, in one kernel per notebook (the venv's Python),
sharing one temporary work folder and one temporary MLflow store; then the results are
checked where they were written: the ledger, the training table, the registered model and
its champion. A notebook added later (5 monitoring and portfolio) is picked up by both.
"""

from __future__ import annotations

import ast
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from mlflow import MlflowClient
from nbclient import NotebookClient

from features.ledger.store import Ledger
from features.pipeline import read_training

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))
NAME = re.compile(r"^\d+-[a-z0-9-]+\.ipynb$")
MAX_FUNCTION_LINES = 5
PACKAGES = {"features", "models", "serving"}

# small enough for 2 cores, large enough that training finds 30 defaults in each period
SIZES = {
    "AMANAH_NOTEBOOK_COOPERATIVES": "12",
    "AMANAH_NOTEBOOK_MEMBERS": "300",
    "AMANAH_NOTEBOOK_MONTHS": "36",
    "AMANAH_NOTEBOOK_START": "2022-06",
    "AMANAH_NOTEBOOK_SEED": "42",
    "AMANAH_NOTEBOOK_MAX_ROUNDS": "60",
    "AMANAH_NOTEBOOK_WORKERS": "1",
}
FORCE_REASON = "test suite: small synthetic ledger, promoted to exercise notebook 4"


def _read(path: Path) -> nbformat.NotebookNode:
    nb: nbformat.NotebookNode = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return nb


def _code_cells(nb: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _imported_packages(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _long_functions(tree: ast.AST) -> list[str]:
    kinds = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
    return [
        f"{getattr(node, 'name', 'lambda')} at line {node.lineno} "
        f"({(node.end_lineno or node.lineno) - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, kinds)
        and (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


def test_the_notebooks_are_there() -> None:
    assert [p.name for p in PATHS[:5]] == [
        "1-ledger-tour.ipynb",
        "2-features.ipynb",
        "3-train-and-compare.ipynb",
        "4-validate-and-promote.ipynb",
        "5-monitoring-and-portfolio.ipynb",
    ]


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_notebook_is_stored_clean_and_holds_no_logic(path: Path) -> None:
    assert NAME.match(path.name), f"{path.name} is not named <step>-<description>.ipynb"
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} of {path.name} has stored outputs"
            assert cell.execution_count is None, f"cell {i} of {path.name} has a count"
    sources = _code_cells(nb)
    assert sources, f"{path.name} has no code"
    first = nb.cells[0]
    assert first.cell_type == "code" and "AMANAH_NOTEBOOK_WORK" in first.source, (
        f"the first cell of {path.name} must be the parameters cell reading AMANAH_NOTEBOOK_WORK"
    )
    imported: set[str] = set()
    for i, source in enumerate(sources):
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            pytest.fail(f"code cell {i} of {path.name} does not parse: {exc}")
        too_long = _long_functions(tree)
        assert not too_long, f"code cell {i} of {path.name} defines logic: {too_long}"
        imported |= _imported_packages(tree)
    assert imported & PACKAGES, f"{path.name} imports none of {sorted(PACKAGES)}"


def test_the_static_checks_catch_logic_and_miss_nothing_short() -> None:
    long = "def f(x):\n    a = x\n    b = a\n    c = b\n    d = c\n    return d\n"
    assert _long_functions(ast.parse(long)) == ["f at line 1 (6 lines)"]
    assert _long_functions(ast.parse("g = lambda s: s.mean()\n")) == []
    assert _imported_packages(ast.parse("import models.registry\nfrom os import path\n")) == {
        "models",
        "os",
    }


def test_the_kernel_is_this_venvs_python() -> None:
    manager = KernelManager(kernel_name="python3")
    command = manager.format_kernel_cmd()
    assert command[0] == sys.executable, command


def test_the_notebooks_run_in_order_on_small_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, start = tmp_path / "work", tmp_path / "start"
    work.mkdir()
    start.mkdir()
    store = tmp_path / "mlflow" / "mlflow.db"
    store.parent.mkdir()
    uri = f"sqlite:///{store}"
    monkeypatch.setenv("AMANAH_NOTEBOOK_WORK", str(work))
    monkeypatch.setenv("AMANAH_MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("AMANAH_NOTEBOOK_FORCE_REASON", FORCE_REASON)
    monkeypatch.setenv("MLFLOW_LOGGING_LEVEL", "ERROR")
    # no scoring store: the monitor reads none (rather than the project's own)
    monkeypatch.setenv("AMANAH_DATABASE_URL", f"sqlite:///{tmp_path / 'no-store.db'}")
    for name, value in SIZES.items():
        monkeypatch.setenv(name, value)
    # the kernels start in a folder of their own, not the repository and not WORK: the
    # kernel's first import path is its folder, where WORK/features would shadow `features`
    monkeypatch.chdir(start)
    seconds: dict[str, float] = {}
    images: dict[str, int] = {}
    for path in PATHS:
        nb = _read(path)
        began = time.perf_counter()
        runner = NotebookClient(
            nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(start)}}
        )
        runner.execute()
        seconds[path.name] = round(time.perf_counter() - began, 1)
        images[path.name] = sum(
            "image/png" in output.get("data", {})
            for cell in nb.cells
            if cell.cell_type == "code"
            for output in cell.outputs
        )
    print(f"notebook seconds: {seconds}")

    # the plots are drawn in the notebook (a library forcing a file-only backend hides them)
    for plotted in [*PATHS[:3], PATHS[4]]:
        assert images[plotted.name] > 0, f"{plotted.name} showed no plot"
    # 1: the generated ledger, and the import with its quarantine
    ledger = Ledger(work / "ledger")
    assert len(ledger.cooperative_ids()) == int(SIZES["AMANAH_NOTEBOOK_COOPERATIVES"])
    members = ledger.read("members", columns=["member_id"])
    assert len(members) == 12 * 300
    imported = Ledger(work / "imported")
    assert imported.cooperative_ids() == ["KMP-MNG"]
    bad = imported.quarantine("savings")
    assert bad is not None and set(bad["_rule"]) >= {"not_positive", "future_date"}
    assert (work / "karantina.xlsx").is_file()
    # 2: the training table, one partition per cooperative
    training = read_training(work / "features")
    assert set(training["cooperative_id"]) == set(ledger.cooperative_ids())
    assert training["labelled"].sum() > 0
    # 3 and 4: two versions registered, the challenger validated and promoted (forced:
    # the notebook ledger is too small for the calibration check) in the temporary store
    client = MlflowClient(uri)
    model = client.get_registered_model("amanah-pd")
    assert set(model.aliases) >= {"champion", "challenger"}
    champion = model.aliases["champion"]
    assert champion == model.aliases["challenger"]
    versions = client.search_model_versions("name = 'amanah-pd'")
    assert len(versions) >= 2
    tags = client.get_model_version("amanah-pd", str(champion)).tags
    assert "gate" in tags
    assert tags["gate_passed"] == "true" or tags.get("forced_reason") == FORCE_REASON
    run_id = client.get_model_version("amanah-pd", str(champion)).run_id
    assert run_id is not None
    run = client.get_run(run_id)
    assert "held_out_auc" in run.data.metrics
    report = work / "validation_report.html"
    assert report.is_file() and "<html" in report.read_text("utf-8")[:2000].lower()
    assert (store.parent / "artifacts").is_dir()
    # 5: the monitor's reports, its figures on the champion's run, and the downturn caught
    assert "No threshold crossed" in (work / "monitoring.html").read_text("utf-8")
    assert "<strong>Alerts</strong>" in (work / "monitoring-downturn.html").read_text("utf-8")
    assert "monitor_score_psi" in run.data.metrics
    assert {a.path for a in client.list_artifacts(run_id, "monitoring")} >= {
        "monitoring/monitoring.html", "monitoring/monitoring-downturn.html",
    }  # fmt: skip
    assert not any(start.iterdir()), "a notebook wrote outside WORK"
