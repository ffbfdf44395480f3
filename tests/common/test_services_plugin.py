"""The test plugin's promise: a server-backed test skipped for missing binaries is loud, and fatal on demand."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NEEDS_REDIS = """
import pytest

@pytest.mark.redis
def test_needs_redis(redis_url):
    assert redis_url
"""


def run_without_redis(tmp_path: Path, *, require: bool) -> subprocess.CompletedProcess:
    (tmp_path / "test_needs_redis.py").write_text(NEEDS_REDIS)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # A PATH with the Python tools but no redis-server.
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{bin_dir}",
        "STRONGROOM_REQUIRE_SERVICES": "1" if require else "0",
    }
    env.pop("STRONGROOM_TEST_DB", None)
    env.pop("DATABASE_URL", None)
    config = ["--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml")]
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *config, str(tmp_path / "test_needs_redis.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


class TestMissingServerBinaries:
    def test_the_skip_is_announced_loudly(self, tmp_path: Path) -> None:
        result = run_without_redis(tmp_path, require=False)

        assert result.returncode == 0, result.stdout[-2000:]
        assert "1 skipped" in result.stdout
        assert "SKIPPED BECAUSE A SERVER IS NOT INSTALLED" in result.stdout

    def test_required_services_turn_the_skip_into_a_failure(self, tmp_path: Path) -> None:
        result = run_without_redis(tmp_path, require=True)

        assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout[-2000:]
        assert "STRONGROOM_REQUIRE_SERVICES=1: this run FAILS" in result.stdout
