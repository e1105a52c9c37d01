"""deploy/production, checked with Dagster's own loaders and schemas, without AWS or Postgres.

The instance is loaded the way `dagster-daemon` loads it ($DAGSTER_HOME/dagster.yaml, every
`{env: NAME}` resolved from .env.example), and each configurable class processes its own
config. Everything but the Postgres connection is built for real: only Dagster's storage is
swapped for SQLite in tmp_path, while the Postgres config is validated and turned into the
URL DagsterPostgresStorage would connect to.
"""

import importlib.util
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from dagster import DagsterInstance
from dagster._config import process_config
from dagster._core.errors import DagsterInvalidConfigError
from dagster._core.instance.config import PoolGranularity
from dagster._core.instance.ref import InstanceRef
from dagster._core.run_coordinator import QueuedRunCoordinator
from dagster._core.workspace.config_schema import ensure_workspace_config
from dagster._serdes.config_class import ConfigurableClassData
from dagster_aws.ecs import EcsRunLauncher
from dagster_aws.s3.compute_log_manager import S3ComputeLogManager
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import pg_url_from_config

from dora4_pipeline.resources.warehouse import WAREHOUSE_POOL

ROOT = Path(__file__).resolve().parents[1]
PROFILE = ROOT / "deploy" / "production"


def example_env(monkeypatch) -> dict[str, str]:
    """Sets exactly the variables of deploy/production/.env.example."""
    env = {}
    for line in (PROFILE / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            env[name.strip()] = value.strip()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # ECS sets it in every task
    return env


@contextmanager
def load_offline(profile_dir: Path, tmp_path: Path) -> Iterator[tuple[DagsterInstance, dict]]:
    """The instance of `profile_dir`/dagster.yaml with SQLite in place of Postgres, and the
    Postgres config as DagsterPostgresStorage's schema processed it."""
    ref = InstanceRef.from_dir(str(profile_dir))  # validates dagster.yaml against the schema

    assert (ref.storage_data.module_name, ref.storage_data.class_name) == (
        "dagster_postgres",
        "DagsterPostgresStorage",
    )
    postgres = process_config(DagsterPostgresStorage.config_type(), ref.storage_data.config_dict)
    if not postgres.success:
        raise DagsterInvalidConfigError("postgres storage", postgres.errors, None)

    sqlite = ConfigurableClassData(
        "dagster._core.storage.sqlite_storage",
        "DagsterSqliteStorage",
        yaml.safe_dump({"base_dir": str(tmp_path / "dagster")}),
    )
    instance = DagsterInstance.from_ref(
        ref._replace(
            storage_data=sqlite,
            run_storage_data=None,
            event_storage_data=None,
            schedule_storage_data=None,
            local_artifact_storage_data=ConfigurableClassData(
                "dagster._core.storage.root",
                "LocalArtifactStorage",
                yaml.safe_dump({"base_dir": str(tmp_path / "dagster")}),
            ),
        )
    )
    # Built lazily by Dagster; each processes its config with its own schema when built.
    instance.run_launcher  # noqa: B018
    instance.run_coordinator  # noqa: B018
    instance.compute_log_manager  # noqa: B018
    try:
        yield instance, postgres.value
    finally:
        instance.dispose()


def test_profile_is_postgres_ecs_and_one_warehouse_writer(monkeypatch, tmp_path):
    env = example_env(monkeypatch)
    with load_offline(PROFILE, tmp_path) as (instance, postgres):
        assert pg_url_from_config(postgres) == (
            f"postgresql://{env['DAGSTER_PG_USER']}:{env['DAGSTER_PG_PASSWORD']}"
            f"@{env['DAGSTER_PG_HOST']}:{env['DAGSTER_PG_PORT']}/{env['DAGSTER_PG_DB']}"
            "?sslmode=require"
        )

        launcher = instance.run_launcher
        assert type(launcher) is EcsRunLauncher
        assert launcher.task_definition is None  # each run's task is derived from the daemon's
        assert launcher.use_current_ecs_task_config and not launcher.include_sidecars
        assert {s["name"]: s["valueFrom"] for s in launcher.secrets} == {
            "DD_API_KEY": env["DORA4_DD_API_KEY_ARN"],
            "DD_APP_KEY": env["DORA4_DD_APP_KEY_ARN"],
            "DAGSTER_PG_PASSWORD": env["DAGSTER_PG_PASSWORD_ARN"],
        }
        assert launcher.secrets_tags == []  # no other secrets reach a run
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert isinstance(instance.compute_log_manager, S3ComputeLogManager)

        concurrency = instance.get_concurrency_config()
        assert concurrency.pool_config.default_pool_limit == 1
        assert concurrency.pool_config.pool_granularity == PoolGranularity.OP
        assert concurrency.run_queue_config.max_concurrent_runs == 4
        # What Dagster does when a run first needs the pool: it takes the default limit.
        instance.event_log_storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).slot_count == 1

        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0
        assert instance.run_retries_enabled  # a lost task, not a failed step
        assert not instance.run_retries_retry_on_asset_or_op_failure
        assert not instance.telemetry_enabled


@pytest.mark.parametrize(
    ("original", "broken", "reason"),
    [
        # a launcher key misspelled: EcsRunLauncher's own schema rejects it
        ("include_sidecars: false", "include_sidecar: false", 'entry "include_sidecar"'),
        # a storage key misspelled: the instance schema rejects it
        ("port: {env: DAGSTER_PG_PORT}", "prot: {env: DAGSTER_PG_PORT}", 'entry "prot"'),
        # a pool limit Dagster cannot enforce
        ("default_limit: 1", "default_limit: -1", "pools > default_limit"),
        # a variable .env.example does not set
        ("{env: DORA4_DD_APP_KEY_ARN}", "{env: DORA4_DD_KEY_ARN}", "DORA4_DD_KEY_ARN"),
    ],
)
def test_a_broken_profile_is_rejected(monkeypatch, tmp_path, original, broken, reason):
    example_env(monkeypatch)
    profile = (PROFILE / "dagster.yaml").read_text()
    assert original in profile
    broken_dir = tmp_path / "profile"
    broken_dir.mkdir()
    (broken_dir / "dagster.yaml").write_text(profile.replace(original, broken))

    with pytest.raises(DagsterInvalidConfigError) as error, load_offline(broken_dir, tmp_path):
        pass
    assert reason in str(error.value)


def test_workspace_reaches_the_code_server_the_image_starts(monkeypatch):
    env = example_env(monkeypatch)
    path = PROFILE / "workspace.yaml"
    workspace = ensure_workspace_config(yaml.safe_load(path.read_text()), str(path))
    (location,) = workspace["load_from"]
    server = location["grpc_server"]

    local = yaml.safe_load((ROOT / "workspace.yaml").read_text())["load_from"][0]["python_module"]
    assert server["host"] == env["DAGSTER_CODE_SERVER_HOST"]
    assert server["location_name"] == local["location_name"]  # runs and schedules keep names

    cmd = next(
        line
        for line in (PROFILE / "Dockerfile").read_text().splitlines()
        if line.startswith("CMD ")
    )
    args = json.loads(cmd.removeprefix("CMD "))
    assert args[:3] == ["dagster", "api", "grpc"]
    options = dict(zip(args[3::2], args[4::2], strict=True))
    assert options["-m"] == local["module_name"]
    assert options["--location-name"] == server["location_name"]
    assert int(options["-p"]) == server["port"]
    assert importlib.util.find_spec(options["-m"]) is not None
