"""Settings from the environment (`AMANAH_*`), read once and overridable in tests."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_KEY_LENGTH = 32


class Settings(BaseSettings):
    """Everything configurable. Secrets have no default: none lives in code or git."""

    model_config = SettingsConfigDict(env_prefix="AMANAH_", extra="ignore")

    pii_key: SecretStr | None = Field(
        default=None,
        description="Secret for the keyed HMAC of NIK and phone numbers (>= 32 characters).",
    )

    mlflow_tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking URI; default: the embedded SQLite store in the Amanah "
        "project's mlflow/ folder, whatever the current folder (models.registry.tracking_uri).",
    )

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store (applications, scores, decisions, audit), "
        "for example postgresql+psycopg://amanah@db/amanah; default: the SQLite file "
        "data/amanah.db in the Amanah project's folder (serving.store.database_url).",
    )

    @field_validator("pii_key")
    @classmethod
    def _key_long_enough(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value()) < MIN_KEY_LENGTH:
            raise ValueError(
                f"AMANAH_PII_KEY must be at least {MIN_KEY_LENGTH} characters "
                f"(got {len(v.get_secret_value())}); generate one with "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`"
            )
        return v


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


PROJECT_NAME = "amanah"  # [project] name in the pyproject.toml that marks the project folder


def project_root(start: Path | None = None) -> Path | None:
    """The folder of the Amanah project's pyproject.toml: upwards from this package's files
    (an editable install lives in the project), else upwards from `start` (default: the
    current folder); None outside any Amanah project."""
    for origin in (Path(__file__).resolve().parent, (start or Path.cwd()).resolve()):
        for folder in (origin, *origin.parents):
            if _is_amanah_project(folder / "pyproject.toml"):
                return folder
    return None


def _is_amanah_project(pyproject: Path) -> bool:
    try:
        declared = tomllib.loads(pyproject.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False
    return bool(declared.get("project", {}).get("name") == PROJECT_NAME)
