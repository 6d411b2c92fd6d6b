"""The model in service: one holder per app, a last good copy on disk, atomic hot swaps.

`ModelHolder.current()` is an immutable `Snapshot` (model, its registered name, version
and alias, where it came from, when it was loaded). A request takes it once, at its start
(`serving.deps.ScoringDep`), so a swap never changes a request half-way: requests in flight
finish on the old model, the next ones get the new one. A swap is one reference
assignment under a lock.

`reload()` asks the registry which version `settings.model_uri` (the champion) names now.
A new version is downloaded into the cache folder, loaded and checked (`refusal`): its
features must be ones the serving path can fill (a profile column or a loan request
feature, when profiles are loaded), each explained by its own catalog and of the same kind
(categorical or numeric) as the current catalog declares it, and the pyfunc signature it
was registered with must declare exactly those inputs. A refused version leaves the old
one serving; the reason is answered to the admin, logged (no personal data: it names
features and versions only) and remembered, so the periodic check does not fetch it again.

The last good copy. After a version is accepted, its artifact folder stays in the cache
folder (`AMANAH_MODEL_CACHE_DIR`, default `data/model-cache` of the Amanah project) and
`last-good.json` names it with its name, version, alias, load time, the model URI and a
digest of the tracking URI it came from; the folder is complete before that file is
replaced (write, then rename), so a crash leaves the previous copy named. At start, when
the registry cannot be asked, has no champion or its champion is refused, the app starts
from that copy (same model URI and registry only: a copy of another registry's champion is
not this one's) and readiness says `degraded`; with no copy either there is no model and
scoring answers 503.

A model given to `create_app(settings, model=...)` (tests) is held with source "given"
and never replaced by the registry. `PeriodicCheck` calls `reload()` every
`AMANAH_MODEL_CHECK_SECONDS` on a daemon thread, started and stopped by the app's lifespan.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pyarrow.parquet as pq
from starlette.datastructures import State

from features.application import (
    DECLARED_COLUMNS,
    REQUEST_FEATURES,
    computable_request_features,
)
from features.catalog import CATALOG, Feature
from features.profile_store import PROFILES, ProfileStore
from features.settings import project_root
from models.artifact import AmanahModel
from serving.config import ApiSettings

logger = logging.getLogger(__name__)

Source = Literal["registry", "cache", "given"]
Health = Literal["ok", "degraded", "failed"]
DEFAULT_CACHE_DIR = Path("data") / "model-cache"  # under the Amanah project's folder
POINTER = "last-good.json"
INCOMING = ".incoming-"


def cache_dir(settings: ApiSettings) -> Path:
    """`AMANAH_MODEL_CACHE_DIR`, else `data/model-cache` of the Amanah project (of the
    current folder outside any project). Creates nothing."""
    if settings.model_cache_dir is not None:
        return settings.model_cache_dir
    root = project_root()
    return (root if root is not None else Path.cwd().resolve()) / DEFAULT_CACHE_DIR


@dataclass(frozen=True)
class Snapshot:
    """The model a request is served by, and which one it is."""

    model: AmanahModel
    name: str | None
    version: str | None
    alias: str | None
    source: Source
    loaded_at: datetime

    def identity(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "alias": self.alias,
            "source": self.source,
            "loaded_at": self.loaded_at.isoformat(),
        }


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: the snapshot before and after, whether it swapped, and why a
    version was not taken (refused by the checks, or the registry could not be asked)."""

    previous: Snapshot | None
    current: Snapshot | None
    swapped: bool
    refused_reason: str | None = None


# ------------------------------------------------------------------ checks (pure)
def refusal(
    model: AmanahModel,
    available: Collection[str] | None,
    catalog: Sequence[Feature] = CATALOG,
    signature: Sequence[tuple[str, str]] | None = None,
) -> str | None:
    """Why the serving path cannot use `model`, or None when it can.

    `available`: the inputs serving can fill (profile columns and request features); None
    when no profiles are loaded (not checked). `catalog`: the current catalog. `signature`:
    (name, type) of the registered pyfunc's inputs, when known."""
    features = list(model.features)
    if available is not None:
        missing = [f for f in features if f not in available]
        if missing:
            return f"features the member profiles do not hold: {', '.join(missing)}"
    own = {f.name: f for f in model.catalog}
    unexplained = [f for f in features if f not in own]
    if unexplained:
        return f"features its own catalog does not explain: {', '.join(unexplained)}"
    current = {f.name: f for f in catalog}
    categorical = set(model.categories)
    kinds = [
        f for f in features
        if f in current and (current[f].dtype == "category") != (f in categorical)
    ]  # fmt: skip
    if kinds:
        return f"features of another kind than the current catalog's: {', '.join(kinds)}"
    if signature is not None:
        declared = [name for name, _ in signature]
        if sorted(declared) != sorted(features):
            differ = sorted(set(declared) ^ set(features))
            return f"its registered signature declares other inputs: {', '.join(differ)}"
        texts = [name for name, kind in signature if (kind == "string") != (name in categorical)]
        if texts:
            return f"its registered signature types these inputs otherwise: {', '.join(texts)}"
    return None


def serving_inputs(profiles: ProfileStore | None) -> frozenset[str] | None:
    """What the serving path can give a model: the profiles' columns (read from one
    partition's schema) and the loan request's features those columns let it compute
    (`features.application.computable_request_features`); None without profiles."""
    if profiles is None:
        return None
    parts = sorted((profiles.root / PROFILES).glob("*.parquet"))
    if not parts:
        return frozenset(REQUEST_FEATURES) | frozenset(DECLARED_COLUMNS)
    columns = frozenset(pq.read_schema(parts[0]).names)
    # a current profile's request features are placeholders (no request yet): the serving
    # path computes them, where the profile holds their inputs
    held = columns - frozenset(REQUEST_FEATURES)
    return held | computable_request_features(columns) | frozenset(DECLARED_COLUMNS)


def registry_digest(uri: str) -> str:
    """A digest of the tracking URI a copy came from: compared, never shown (a URI may
    hold a password)."""
    return hashlib.sha256(uri.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ the last good copy
@dataclass(frozen=True)
class CacheEntry:
    folder: Path
    name: str
    version: str
    alias: str | None
    loaded_at: datetime


def read_cache(root: Path, model_uri: str, registry: str) -> CacheEntry | None:
    """The copy `last-good.json` of `root` names, if it was taken from `model_uri` of the
    registry with digest `registry` and its folder is there."""
    try:
        pointer = json.loads((root / POINTER).read_text("utf-8"))
        entry = CacheEntry(
            folder=root / str(pointer["folder"]),
            name=str(pointer["name"]),
            version=str(pointer["version"]),
            alias=None if pointer.get("alias") is None else str(pointer["alias"]),
            loaded_at=datetime.fromisoformat(str(pointer["loaded_at"])),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if pointer.get("model_uri") != model_uri or pointer.get("registry") != registry:
        return None
    return entry if (entry.folder / "model.json").is_file() else None


def write_cache(
    root: Path, artifact: Path, snapshot: Snapshot, model_uri: str, registry: str
) -> Path:
    """Keep `artifact` (a folder inside `root`) as the last good copy: moved to the folder
    of its version and registry, then `last-good.json` replaced to name it, then other
    copies removed. A version's folder is complete once it exists (a rename), so a second
    worker keeping the same version uses the first one's."""
    plain = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{snapshot.name}-v{snapshot.version}")
    kept = root / f"{plain}-{registry[:12]}"
    if not (kept / "model.json").is_file():
        shutil.rmtree(kept, ignore_errors=True)
        artifact.rename(kept)
    pointer = {
        "folder": kept.name,
        "name": snapshot.name,
        "version": snapshot.version,
        "alias": snapshot.alias,
        "loaded_at": snapshot.loaded_at.isoformat(),
        "model_uri": model_uri,
        "registry": registry,
    }
    partial = root / f"{POINTER}.{secrets.token_hex(4)}.tmp"
    partial.write_text(json.dumps(pointer, indent=2), "utf-8")
    os.replace(partial, root / POINTER)
    for old in root.iterdir():
        if old.is_dir() and old != kept and not old.name.startswith(INCOMING):
            shutil.rmtree(old, ignore_errors=True)
    return kept


# ------------------------------------------------------------------ the holder
@dataclass(frozen=True)
class _Problem:
    """Why the holder is not simply serving the registry's champion, as /readyz says it
    (no paths, no URIs: the full reason is logged and answered to the admin)."""

    detail: str


@dataclass
class ModelHolder:
    """The app's current model and how it changes (see the module docstring)."""

    model_uri: str
    tracking_uri: str | None
    cache: Path
    profiles: Callable[[], ProfileStore | None] = lambda: None
    registry: bool = True  # False: a given model, never replaced from the registry
    _current: Snapshot | None = field(default=None, init=False)
    _problem: _Problem | None = field(default=None, init=False)
    _refused: dict[tuple[str, str], str] = field(default_factory=dict, init=False)
    _swap: threading.Lock = field(default_factory=threading.Lock, init=False)
    _reload: threading.Lock = field(default_factory=threading.Lock, init=False)
    # called with the new model after each swap (the metrics' model gauge)
    on_swap: list[Callable[[AmanahModel | None], None]] = field(default_factory=list)

    @classmethod
    def for_settings(
        cls, settings: ApiSettings, profiles: Callable[[], ProfileStore | None]
    ) -> ModelHolder:
        return cls(settings.model_uri, settings.mlflow_tracking_uri, cache_dir(settings), profiles)

    # -------------------------------------------------------------- reading
    def current(self) -> Snapshot | None:
        """The snapshot a request is served by; take it once per request."""
        return self._current

    @property
    def model(self) -> AmanahModel | None:
        snapshot = self._current
        return None if snapshot is None else snapshot.model

    def health(self) -> tuple[Health, str]:
        """The readiness of the model: failed without one, degraded when serving the cached
        copy or when the last reload could not take the champion, else ok."""
        snapshot, problem = self._current, self._problem
        if snapshot is None:
            said = f" ({problem.detail})" if problem is not None else ""
            return "failed", f"no model loaded: scoring answers 503{said}"
        if snapshot.source == "cache":
            why = f": {problem.detail}" if problem is not None else ""
            return "degraded", f"serving the cached copy of version {snapshot.version}{why}"
        if problem is not None:
            return "degraded", f"{problem.detail}; version {snapshot.version} keeps serving"
        return "ok", ""

    # -------------------------------------------------------------- changing
    def give(self, model: AmanahModel | None) -> None:
        """Serve `model` as given (None: serve none); the registry never replaces it."""
        with self._reload, self._swap:
            self.registry = False
            self._problem = None
            self._current = None if model is None else _snapshot(model, "given")
        self._swapped()

    def start(self) -> Snapshot | None:
        """The first load: the registry's version, else the last good copy."""
        outcome = self.reload()
        if self._current is None:
            self._from_cache()
        if self._current is None:
            logger.warning("no model loaded from %s and no cached copy of it: scoring "
                           "answers 503 (%s)", self.model_uri, outcome.refused_reason)  # fmt: skip
        return self._current

    def reload(self) -> ReloadOutcome:
        """Ask the registry for the version `model_uri` names; take it when it is new and
        passes the checks (one reference assignment), else keep serving the old one."""
        with self._reload:
            before = self._current
            if not self.registry:
                given = "this app serves a model it was given, not the registry's"
                return ReloadOutcome(before, before, False, given)
            try:
                return self._reload_from_registry(before)
            # whatever the registry or the artifact raises (store gone, server down, alias
            # missing, old format, MLflow's own errors) keeps the old model serving
            except Exception as exc:
                reason = f"the registry gave no version: {_first_line(exc)}"
                self._problem = _Problem("the registry gave no version")
                logger.warning("model reload: %s", reason)
                return ReloadOutcome(before, before, False, reason)

    def _reload_from_registry(self, before: Snapshot | None) -> ReloadOutcome:
        from models.registry import (
            download_version,
            registered_fields,
            resolve_version,
            signature_inputs,
            tracking_uri,
        )

        name, version, alias = resolve_version(self.model_uri, self.tracking_uri)
        if before is not None and (before.name, before.version) == (name, version):
            if before.source != "registry" or before.alias != alias:  # the registry is back
                self._swap_in(_snapshot(before.model, "registry", name, version, alias))
            self._problem = None
            return ReloadOutcome(before, self._current, False)
        known = self._refused.get((name, version))
        if known is not None:
            self._problem = _Problem(f"version {version} was refused")
            return ReloadOutcome(before, before, False, known)
        self.cache.mkdir(parents=True, exist_ok=True)
        incoming = self.cache / f"{INCOMING}{secrets.token_hex(4)}"
        try:
            artifact = download_version(name, version, tracking_uri(self.tracking_uri), incoming)
            try:
                model = AmanahModel.load(artifact)
            except (OSError, ValueError, KeyError, TypeError) as exc:
                return self._refuse(
                    before, name, version, f"it cannot be loaded: {_first_line(exc)}"
                )
            model.metadata.update(registered_fields(name, version, alias))
            why = refusal(
                model, serving_inputs(self.profiles()), signature=signature_inputs(artifact)
            )
            if why is not None:
                return self._refuse(before, name, version, why)
            snapshot = _snapshot(model, "registry", name, version, alias)
            self._keep(artifact, snapshot)
        finally:
            shutil.rmtree(incoming, ignore_errors=True)
        self._swap_in(snapshot)
        self._problem = None
        logger.info("model %s version %s now serves", name, version)
        return ReloadOutcome(before, snapshot, True)

    def _refuse(self, before: Snapshot | None, name: str, version: str, why: str) -> ReloadOutcome:
        reason = f"{name} version {version} refused: {why}"
        self._refused[(name, version)] = reason
        self._problem = _Problem(f"version {version} was refused")
        logger.warning("model reload: %s", reason)
        return ReloadOutcome(before, before, False, reason)

    def _keep(self, artifact: Path, snapshot: Snapshot) -> None:
        """The accepted version's folder becomes the last good copy; a cache that cannot be
        written costs the fallback, not the swap."""
        from models.registry import tracking_uri

        try:
            write_cache(self.cache, artifact, snapshot, self.model_uri,
                        registry_digest(tracking_uri(self.tracking_uri)))  # fmt: skip
        except OSError as exc:
            logger.warning("model cache not written: %s", _first_line(exc))

    def _from_cache(self) -> None:
        from models.registry import registered_fields, tracking_uri

        registry = registry_digest(tracking_uri(self.tracking_uri))
        entry = read_cache(self.cache, self.model_uri, registry)
        if entry is None:
            return
        try:
            model = AmanahModel.load(entry.folder)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("the cached model cannot be loaded: %s", _first_line(exc))
            return
        model.metadata.update(registered_fields(entry.name, entry.version, entry.alias))
        why = refusal(model, serving_inputs(self.profiles()))
        if why is not None:
            logger.warning("the cached model version %s is refused: %s", entry.version, why)
            return
        self._swap_in(_snapshot(model, "cache", entry.name, entry.version, entry.alias))
        logger.warning("serving the cached copy of %s version %s", entry.name, entry.version)

    def _swap_in(self, snapshot: Snapshot) -> None:
        with self._swap:
            self._current = snapshot
        self._swapped()

    def _swapped(self) -> None:
        for listener in self.on_swap:
            try:
                listener(self.model)
            except Exception as exc:  # a listener never undoes or fails a swap
                logger.warning("model swap listener: %s", _first_line(exc))


def _snapshot(
    model: AmanahModel,
    source: Source,
    name: str | None = None,
    version: str | None = None,
    alias: str | None = None,
) -> Snapshot:
    who = model.identity()
    if source == "given":
        name, version, alias = who["name"], who["version"], who["alias"]
    return Snapshot(model, name, version, alias, source, datetime.now(UTC))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def holder_for(
    settings: ApiSettings,
    model: AmanahModel | None,
    profiles: Callable[[], ProfileStore | None],
) -> ModelHolder:
    """The app's holder, started: `model` when given, else the registry's version of
    `settings.model_uri`, else the last good copy, else none."""
    holder = ModelHolder.for_settings(settings, profiles)
    folder = None if model is not None else _local_artifact(settings.model_uri)
    if folder is not None:
        model = _load_folder(folder)
    if model is not None:
        holder.give(model)
    elif folder is None:
        holder.start()
    return holder


def _local_artifact(model_uri: str) -> Path | None:
    """The artifact folder `AMANAH_MODEL_URI` names when it is a local folder (a model
    written by `amanah train --table`, or a saved artifact), not a models:/ URI."""
    from models.registry import artifact_folder

    if model_uri.startswith("models:/"):
        return None
    path = Path(model_uri)
    return artifact_folder(path) if path.is_dir() else None


def _load_folder(folder: Path) -> AmanahModel | None:
    """The artifact of a local folder, served as given (no registry swaps it); None,
    logged, when it cannot be read."""
    try:
        return AmanahModel.load(folder)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        logger.warning("no model loaded from the folder %s: %s", folder, _first_line(exc))
        return None


# ------------------------------------------------------------------ app.state
class ServingState(State):
    """`app.state` whose `model` is a view of its `model_holder`: reading it gives the model
    a new request gets; setting it serves that model as given (None: none), as a test or a
    console does to take the model away."""

    def __init__(self, state: State, holder: ModelHolder) -> None:
        super().__init__(dict(state._state))
        self._state["model_holder"] = holder

    @property
    def model(self) -> AmanahModel | None:
        holder: ModelHolder = self._state["model_holder"]
        return holder.model

    def __setattr__(self, key: Any, value: Any) -> None:
        if key == "model":
            holder: ModelHolder = self._state["model_holder"]
            holder.give(value)
            return
        super().__setattr__(key, value)


# ------------------------------------------------------------------ the periodic check
class PeriodicCheck:
    """`holder.reload()` every `seconds` on a daemon thread (0: never)."""

    def __init__(self, holder: ModelHolder, seconds: float) -> None:
        self.holder, self.seconds = holder, seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.seconds <= 0 or not self.holder.registry or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="amanah-model-check", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            if not self.holder.registry:  # a model was given since: nothing to check
                return
            try:
                self.holder.reload()
            except Exception as exc:  # reload answers its failures; never end the thread
                logger.warning("model check: %s", _first_line(exc))

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
