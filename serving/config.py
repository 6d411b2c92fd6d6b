"""The API's settings: `features.settings.Settings` plus what only the server needs.

They are read by :func:`load_settings` when an app is created (`serving.app.create_app`),
never at import, so a test builds an app from its own `ApiSettings`. Outside development
the PII key must be set and must not be a placeholder: a server that hashes NIKs with a
key copied from an example would make every hash guessable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import SettingsConfigDict

from features.settings import Settings, project_root

Environment = Literal["development", "production"]
DEFAULT_MODEL_URI = "models:/amanah-pd@champion"
DEFAULT_FEATURES_DIR = Path("data") / "demo-features"  # under the Amanah project's folder
# a key containing one of these was copied from an example, not generated
PLACEHOLDER_MARKS = ("changeme", "change-me", "change_me", "changethis", "placeholder",
                     "replace-me", "replaceme", "example", "xxxxxxxx")  # fmt: skip
GENERATE_KEY = "python -c 'import secrets; print(secrets.token_hex(32))'"


class SettingsError(ValueError):
    """Settings that cannot be used; the message is one line naming the setting."""


class ApiSettings(Settings):
    """Settings of the scoring API (`AMANAH_*`); the store and PII key come from the base."""

    model_config = SettingsConfigDict(env_prefix="AMANAH_", extra="ignore")

    environment: Environment = Field(
        default="development",
        description="development or production; production refuses a missing or "
        "placeholder AMANAH_PII_KEY.",
    )
    model_uri: str = Field(
        default=DEFAULT_MODEL_URI,
        min_length=1,
        description="The registered model the API serves (an MLflow models:/ URI).",
    )
    features_dir: Path | None = Field(
        default=None,
        description="The built features folder whose current profiles the API scores "
        "(`amanah features build --out`); default: data/demo-features of the Amanah "
        "project (serving.config.features_dir).",
    )
    max_body_bytes: int = Field(
        default=1_048_576, gt=0, description="Largest request body accepted, in bytes."
    )
    max_batch_items: int = Field(
        default=1_000, gt=0, le=10_000, description="Most applications in one score batch."
    )
    model_cache_dir: Path | None = Field(
        default=None,
        description="Where the last good model version is kept, to start from when the "
        "registry cannot be reached; default: data/model-cache of the Amanah project "
        "(serving.model_holder.cache_dir).",
    )
    model_check_seconds: float = Field(
        default=60,
        ge=0,
        description="How often the server asks the registry for a new champion, in "
        "seconds; 0 turns the periodic check off (POST /v1/admin/model:reload still works).",
    )
    rate_limit_per_minute: int = Field(
        default=600,
        ge=0,
        description="Requests per minute per API key (the token bucket's refill); 0 turns "
        "the limit off. Each uvicorn worker keeps its own buckets, so with N workers a key "
        "may make up to N times this.",
    )
    rate_limit_burst: int = Field(
        default=60,
        gt=0,
        description="Requests a key may make at once before the per-minute rate applies "
        "(the token bucket's size), per worker.",
    )
    member_scores_per_day: int = Field(
        default=10,
        ge=0,
        description="Most scores one partner may request for one member in 24 hours, "
        "counted in the store (so across workers and restarts); 0 turns the limit off.",
    )

    ledger_dir: Path | None = Field(
        default=None,
        description="The ledger the officer console reads member names, savings and loans "
        "from; default: the ledger the current profiles were built from (features.json).",
    )
    imports_dir: Path | None = Field(
        default=None,
        description="Where the console's imports are staged (one folder per upload); "
        "default: data/console-imports of the Amanah project.",
    )
    secure_cookies: bool | None = Field(
        default=None,
        description="Mark the console's cookies Secure (sent over HTTPS only); default: on "
        "in production, off in development (the demo serves plain HTTP on loopback).",
    )

    @model_validator(mode="after")
    def _secrets_outside_development(self) -> ApiSettings:
        if self.environment == "development":
            return self
        key = self.pii_key.get_secret_value().strip() if self.pii_key is not None else ""
        if not key:
            raise ValueError(
                f"AMANAH_PII_KEY is required when AMANAH_ENVIRONMENT={self.environment}; "
                f"generate one with `{GENERATE_KEY}`"
            )
        if any(mark in key.lower() for mark in PLACEHOLDER_MARKS):
            raise ValueError(
                f"AMANAH_PII_KEY is a placeholder, refused when AMANAH_ENVIRONMENT="
                f"{self.environment}; generate one with `{GENERATE_KEY}`"
            )
        return self


def under_project(relative: Path) -> Path:
    """`relative` under the Amanah project's folder (the current folder outside any)."""
    root = project_root()
    return (root if root is not None else Path.cwd().resolve()) / relative


def features_dir(settings: ApiSettings) -> Path:
    """`AMANAH_FEATURES_DIR`, else `data/demo-features` of the Amanah project (of the
    current folder outside any project). Creates nothing."""
    if settings.features_dir is not None:
        return settings.features_dir
    return under_project(DEFAULT_FEATURES_DIR)


def imports_dir(settings: ApiSettings) -> Path:
    """`AMANAH_IMPORTS_DIR`, else `data/console-imports` of the Amanah project."""
    if settings.imports_dir is not None:
        return settings.imports_dir
    return under_project(Path("data") / "console-imports")


def secure_cookies(settings: ApiSettings) -> bool:
    """Whether the console's cookies carry `Secure` (see `ApiSettings.secure_cookies`)."""
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return settings.environment == "production"


def load_settings(**overrides: object) -> ApiSettings:
    """`ApiSettings` from the environment (and `overrides`, for tests and the CLI).

    Raises SettingsError with one line per problem joined by "; ", each naming its
    `AMANAH_*` variable; the value given is never repeated (it may be a secret)."""
    try:
        return ApiSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        message = " ".join(str(error["msg"]).removeprefix("Value error, ").split())
        if error["loc"]:
            name = f"AMANAH_{str(error['loc'][0]).upper()}"
            message = message if message.startswith(name) else f"{name}: {message}"
        problems.append(message)
    return "; ".join(problems)
