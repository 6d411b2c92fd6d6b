"""The treasurer's import: upload the cooperative's export, see what was read, accepted and
quarantined per table, download the quarantine as a workbook she can open.

Each upload is imported into its own staging folder (`serving.config.imports_dir`, one
folder per cooperative and upload) by the same importer as `amanah import`; the ledger the
console and the profiles use does not change until an analyst rebuilds from it. An export
holding rows of another cooperative is refused whole and its folder removed: an officer
imports her own cooperative's book only.
"""

from __future__ import annotations

import re
import secrets
import shutil
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from features.ledger.importer import ImportReport, LedgerImportError, import_ledger
from features.ledger.quarantine_book import quarantine_xlsx_bytes
from features.ledger.sources import SourceError
from features.ledger.store import Ledger
from serving.config import imports_dir
from serving.console.render import render
from serving.console.session import OfficerDep, PageError, checked_form
from serving.officers import CurrentOfficer
from serving.security import PiiKeyMissingError, pii_key

router = APIRouter()
UPLOAD_LIMIT_BYTES = 20 * 1024 * 1024
_IMPORT_ID = re.compile(r"^imp_[0-9a-f]{24}$")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]+")


@router.get("/import")
def import_page(request: Request, officer: OfficerDep) -> Response:
    return render(request, "import.html", report=None, problem=None, import_id=None)


def _run_import(
    request: Request, officer: CurrentOfficer, files: list[tuple[str, bytes]]
) -> tuple[str, ImportReport]:
    import_id = f"imp_{secrets.token_hex(12)}"
    folder = imports_dir(request.app.state.settings) / officer.cooperative_id / import_id
    source = folder / "source"
    source.mkdir(parents=True)
    for name, data in files:
        (source / name).write_bytes(data)
    try:
        key = pii_key(request.app.state.settings)
    except PiiKeyMissingError:
        shutil.rmtree(folder, ignore_errors=True)
        raise PageError(503, "unavailable", "unavailable", detail="AMANAH_PII_KEY") from None
    try:
        report = import_ledger(source, folder / "ledger", key)
    except (LedgerImportError, SourceError, ValueError) as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise PageError(422, "err_import", "import", detail=str(exc)) from None
    others = sorted(set(Ledger(folder / "ledger").cooperative_ids()) - {officer.cooperative_id})
    if others:
        shutil.rmtree(folder, ignore_errors=True)
        raise PageError(422, "err_other_coop", "other-cooperative", others=", ".join(others))
    return import_id, report


@router.post("/import")
async def import_post(request: Request, officer: OfficerDep) -> Response:
    form = await checked_form(request, officer)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    if not uploads:
        return render(request, "import.html", 422, report=None, problem=("err_no_files", {}),
                      import_id=None)  # fmt: skip
    files: list[tuple[str, bytes]] = []
    for upload in uploads:
        name = _SAFE_NAME.sub("_", Path(upload.filename or "").name)[:120]
        if Path(name).suffix.lower() not in (".csv", ".xlsx"):
            return render(request, "import.html", 422, report=None,
                          problem=("err_file_type", {"name": name}), import_id=None)  # fmt: skip
        files.append((name, await upload.read()))
    import_id, report = await run_in_threadpool(_run_import, request, officer, files)
    return render(request, "import.html", report=report, problem=None, import_id=import_id)


@router.get("/import/{import_id}/quarantine.xlsx")
def quarantine_download(request: Request, import_id: str, officer: OfficerDep) -> Response:
    if not _IMPORT_ID.match(import_id):
        raise PageError(404, "page_not_found", "not-found")
    folder = imports_dir(request.app.state.settings) / officer.cooperative_id / import_id
    if not (folder / "ledger").is_dir():
        raise PageError(404, "page_not_found", "not-found")
    data = quarantine_xlsx_bytes(folder / "ledger")
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="karantina-{import_id}.xlsx"',
            "Cache-Control": "no-store",
        },
    )
