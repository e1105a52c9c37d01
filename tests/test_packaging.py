"""A plain, non-editable `pip install .` carries the SQL models and the dashboard: the
production image installs that way, with no source checkout beside the package, and
without the generator (deploy/production/Dockerfile copies exactly SHIPPED).

Built from a copy of the tracked files (the build writes build/ and *.egg-info where it
runs), offline, with the build backend already in the environment."""

import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("pyproject.toml", "README.md", "dora4_pipeline/", "dbt_like_sql/", "dashboards/")


def tracked(prefixes: tuple[str, ...]) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [n for n in out.stdout.decode().split("\0") if n.startswith(prefixes)]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("source")
    for name in tracked(SHIPPED):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes((ROOT / name).read_bytes())
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation",
         "--no-index", "--quiet", "-w", str(out)],
        check=True,
    )  # fmt: skip
    [built] = out.glob("*.whl")
    return built


def test_the_wheel_holds_every_model_and_the_dashboard(wheel):
    inside = set(zipfile.ZipFile(wheel).namelist())
    wanted = tracked(("dbt_like_sql/", "dashboards/"))
    assert any(name.endswith(".sql") for name in wanted)
    assert [name for name in wanted if name not in inside] == []


@pytest.fixture(scope="module")
def target(wheel, tmp_path_factory) -> Path:
    """The wheel installed into a bare folder, as the image's `pip install .` would."""
    site = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", str(wheel), "--no-deps", "--no-index",
         "--quiet", "--target", str(site)],
        check=True,
    )  # fmt: skip
    return site


def test_an_installed_copy_builds_the_warehouse_from_its_own_models(target, tmp_path):
    probe = textwrap.dedent(
        """
        import duckdb
        from dora4_pipeline import sql
        from dora4_pipeline.publish.dashboard import DEFAULT_DASHBOARD
        conn = duckdb.connect()
        for _, script in sql.setup_scripts():
            conn.execute(script)
        sql.build_views(conn)
        print(sql.SQL_ROOT)
        print(DEFAULT_DASHBOARD.is_file())
        print(len(sql.load("marts/fct_deployments")) > 0)
        """
    )
    # Run away from the checkout, the installed copy first on the path.
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    root, dashboard, model = done.stdout.split()
    assert Path(root).is_relative_to(target)
    assert (dashboard, model) == ("True", "True")


def test_without_the_generator_generate_fails_in_one_line(target, tmp_path):
    assert not (target / "dora4_generator").exists()
    # An editable install (make test's .venv) would find the checkout's generator through
    # its import hook: leave it out, as the production image has no checkout.
    probe = (
        "import sys; sys.meta_path[:] = [f for f in sys.meta_path "
        "if not getattr(f, '__module__', '').startswith('__editable__')]; "
        "from dora4_pipeline.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", probe, "generate", "--out", str(tmp_path / "out")],
        cwd=tmp_path, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "dora4_generator" in done.stderr
    assert not (tmp_path / "out").exists()


def test_the_image_copies_what_the_wheel_is_built_from():
    dockerfile = (ROOT / "deploy" / "production" / "Dockerfile").read_text()
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    assert {name.rstrip("/") for name in SHIPPED} <= copied | {"README.md", "pyproject.toml"}
    assert "dora4_generator" not in copied and "pip install --no-cache-dir ." in dockerfile
