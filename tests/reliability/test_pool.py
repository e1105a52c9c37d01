"""The pool's recovery settings and `dora4 pool`, on a persistent instance made from
deploy/local/dagster.yaml (what `make dev` installs). The killed process itself is in
test_killed_run.py."""

import shutil
from pathlib import Path

import dagster as dg
import pytest

from dora4_pipeline.cli import main
from dora4_pipeline.resources.warehouse import WAREHOUSE_POOL

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "local" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.mark.parametrize("profile", ["local", "production"])
def test_the_profiles_give_back_the_slots_of_runs_that_ended(profile):
    """Dagster's own schema reads the setting (a misspelt key would fail here)."""
    from dagster._core.instance.ref import InstanceRef

    ref = InstanceRef.from_dir(str(ROOT / "deploy" / profile))
    monitoring = ref.settings["run_monitoring"]
    assert monitoring["enabled"] is True
    assert 0 < monitoring["free_slots_after_run_end_seconds"] <= 300


def test_dora4_pool_names_the_holder_and_frees_a_dead_one(home, capsys):
    with dg.DagsterInstance.get() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots(WAREHOUSE_POOL, 1)
        # A run that is gone from the instance altogether, still holding the slot.
        storage.claim_concurrency_slot(WAREHOUSE_POOL, "gone-run", "raw__candidate_events")
        assert not storage.claim_concurrency_slot(WAREHOUSE_POOL, "next-run", "marts__x").is_claimed

    assert main(["pool"]) == 0
    shown = capsys.readouterr().out.splitlines()
    assert shown == [
        f"pool {WAREHOUSE_POOL}: limit 1, 1 held",
        "  held by run gone-run (step raw__candidate_events, MISSING): not running any more: "
        "free it",
        "  waiting: run next-run step marts__x",
    ]

    assert main(["pool", "--free", "gone-run"]) == 0
    with dg.DagsterInstance.get() as instance:
        info = instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL)
        assert [s.run_id for s in info.claimed_slots] in ([], ["next-run"])
    assert main(["pool", "--free", "gone-run"]) == 2
    assert "holds no slot" in capsys.readouterr().err


def test_dora4_pool_needs_a_persistent_instance(monkeypatch, capsys):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    assert main(["pool"]) == 2
    assert "DAGSTER_HOME" in capsys.readouterr().err
