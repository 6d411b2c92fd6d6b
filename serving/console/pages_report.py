"""The current model's validation report, linked from the portfolio page.

The report is the one the training run logged to MLflow (`report/validation_report.html`),
fetched once per model version and kept in the model cache folder; a model served from a
local folder (tests, `AMANAH_MODEL_URI` naming a folder) has no run, and the page says so.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from serving.console.session import OfficerDep, PageError
from serving.model_holder import cache_dir

router = APIRouter()


def _report_file(request: Request) -> Path | None:
    model = getattr(request.app.state, "model", None)
    identity = {} if model is None else model.identity()
    name, version = identity.get("name"), identity.get("version")
    if not name or not version:
        return None
    target = cache_dir(request.app.state.settings) / "reports" / f"{name}-{version}.html"
    if not target.is_file():
        import mlflow
        from mlflow import MlflowClient

        from models.registry import tracking_uri

        uri = tracking_uri(request.app.state.settings.mlflow_tracking_uri)
        run_id = MlflowClient(uri).get_model_version(str(name), str(version)).run_id
        found = mlflow.artifacts.download_artifacts(
            run_id=str(run_id), artifact_path="report/validation_report.html", tracking_uri=uri
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(Path(found).read_bytes())
    return target


@router.get("/model/report")
def model_report(request: Request, officer: OfficerDep) -> Response:
    try:
        target = _report_file(request)
    except Exception:  # the registry unreachable or the run without a report
        target = None
    if target is None:
        raise PageError(404, "page_not_found", "no-report")
    return FileResponse(str(target), media_type="text/html; charset=utf-8")
