"""Shared fixtures: small generated ledgers with fixed seeds, built once per session."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest

from features.generator.run import GeneratorConfig, generate_ledger

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from models.training import TrainingResult

TODAY = date(2026, 11, 28)
PII_KEY = b"test-key-not-a-secret-0123456789abcdef"


@pytest.fixture(scope="session")
def small_config() -> GeneratorConfig:
    return GeneratorConfig(cooperatives=3, members_per_coop=60, months=18, start="2024-01", seed=7)


@pytest.fixture(scope="session")
def small_ledger(tmp_path_factory: pytest.TempPathFactory, small_config: GeneratorConfig) -> Path:
    out = tmp_path_factory.mktemp("small") / "ledger"
    generate_ledger(out, small_config, pii_key=PII_KEY, today=TODAY)
    return out


@pytest.fixture(scope="session")
def medium_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough loans for statistical checks: every profile, 3 years (about 5 s)."""
    out = tmp_path_factory.mktemp("medium") / "ledger"
    config = GeneratorConfig(
        cooperatives=16, members_per_coop=300, months=36, start="2022-06", seed=11
    )
    generate_ledger(out, config, pii_key=PII_KEY, today=TODAY)
    return out


ROUNDS = 300  # enough for these sizes; keeps the suite quick


@pytest.fixture(scope="session")
def medium_features(medium_ledger: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Profiles and training table of the medium ledger, as of its as-of day."""
    from features.ledger.store import Ledger
    from features.pipeline import build_features

    out = tmp_path_factory.mktemp("feat") / "features"
    build_features(medium_ledger, out, Ledger(medium_ledger).as_of)
    return out


@pytest.fixture(scope="session")
def training_table(medium_features: Path) -> pd.DataFrame:
    from features.pipeline import read_training

    return read_training(medium_features)


@pytest.fixture(scope="session")
def trained(training_table: pd.DataFrame) -> TrainingResult:
    """The PD model trained as the demo trains it, on the medium ledger, as LightGBM: on
    this small ledger the WoE scorecard sometimes validates better and would ship (the
    scorecard family has its own tests), while the demo's own size ships LightGBM."""
    from models.training import AMANAH_TARGET, AMANAH_TIME, catalog_spec, train_model

    return train_model(
        training_table, catalog_spec(), AMANAH_TARGET, AMANAH_TIME, max_rounds=ROUNDS,
        family="lightgbm",
    )  # fmt: skip


# A city watched over time (monitoring, the book under stress): five years, a model
# trained on what was known at T0 (loans whose 12-month window had closed), then judged on
# what came after. Seed 13 puts the generator's one-month city shock before the training
# window closes, so the months after T0 are free of shocks.
LONG_CITY = {"cooperatives": 16, "members_per_coop": 300, "months": 60, "start": "2020-06",
             "seed": 13}  # fmt: skip
T0 = pd.Timestamp("2023-12-01")


@pytest.fixture(scope="session")
def long_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("long") / "ledger"
    generate_ledger(out, GeneratorConfig(**LONG_CITY), pii_key=PII_KEY, today=TODAY)  # type: ignore[arg-type]
    return out


@pytest.fixture(scope="session")
def long_features(long_ledger: Path) -> Path:
    """Profiles (as of the ledger's end) and training table of the long city."""
    from features.pipeline import build_features

    out = long_ledger.parent / "features"
    build_features(long_ledger, out, workers=1)
    return out


@pytest.fixture(scope="session")
def model_at_t0(long_features: Path) -> TrainingResult:
    """The PD model as it could have been trained at T0 on the long city."""
    from features.pipeline import read_training
    from models.training import AMANAH_TARGET, AMANAH_TIME, catalog_spec, train_model

    table = read_training(long_features)
    known = table[table[AMANAH_TIME] < T0 - pd.DateOffset(months=12)]
    return train_model(
        known, catalog_spec(), AMANAH_TARGET, AMANAH_TIME, seed=42, max_rounds=ROUNDS,
        family="lightgbm",
    )  # fmt: skip


# The store's tests run on both databases: SQLite (a temporary file) and a real PostgreSQL,
# a database of its own per test module and a fresh schema per test. scripts/test.sh starts
# the server and sets AMANAH_REQUIRE_POSTGRES=1, so CI fails rather than skips without it.
POSTGRES_ENV = "AMANAH_TEST_POSTGRES_URL"
REQUIRE_POSTGRES_ENV = "AMANAH_REQUIRE_POSTGRES"
LOCAL_POSTGRES = "postgresql+psycopg://amanah_test:amanah_test@127.0.0.1:5432/amanah_test"


@pytest.fixture(scope="module")
def postgres_database(request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a PostgreSQL database created for this test module and dropped after it."""
    import re
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    base = make_url(os.environ.get(POSTGRES_ENV) or LOCAL_POSTGRES)
    module = re.sub(r"[^a-z0-9]+", "_", request.module.__name__.rsplit(".", 1)[-1].lower())
    name = f"amanah_{module}_{uuid.uuid4().hex[:8]}"[:63]
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except SQLAlchemyError as exc:
        admin.dispose()
        reason = (
            f"PostgreSQL not reachable at {base.render_as_string(hide_password=True)} "
            f"({' '.join(str(getattr(exc, 'orig', exc)).split())[:200]}); set {POSTGRES_ENV} "
            'or start one with `eval "$(bash scripts/postgres.sh)"`'
        )
        if os.environ.get(REQUIRE_POSTGRES_ENV) == "1":
            pytest.fail(f"{REQUIRE_POSTGRES_ENV}=1: {reason}")
        pytest.skip(reason)
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh schema (first on the search path) in
    the module's PostgreSQL database, dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'amanah.db'}"
        return
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    database = make_url(request.getfixturevalue("postgres_database"))
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(database, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield database.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture()
def engine(store_url: str) -> Iterator[Engine]:
    """An engine on `store_url` migrated to the newest revision, disposed after the test."""
    from serving.store import make_engine, upgrade

    upgrade(store_url)
    made = make_engine(store_url)
    yield made
    made.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def api_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The database of a module's API test world: a SQLite file, then the module's own
    PostgreSQL database (each module-scoped world is built once per database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('api-db') / 'amanah.db'}"
    url: str = request.getfixturevalue("postgres_database")
    return url
