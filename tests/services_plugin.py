"""pytest plugin: throw-away PostgreSQL and Redis servers, and loud accounting of service skips.

- `STRONGROOM_TEST_DB=postgres`: a private PostgreSQL cluster is started before Django loads its
  settings, and the whole suite runs on it. Otherwise the suite runs on SQLite and tests marked
  `postgres` are deselected (they belong to the PostgreSQL pass).
- Tests marked `redis` get a throw-away redis-server through the `redis_url` fixture.
- A test skipped because a server's binaries are missing is announced at the end of the run;
  with `STRONGROOM_REQUIRE_SERVICES=1` any such skip fails the run.
"""

import os

import pytest

from common.testing.servers import PostgresServer, RedisServer, ServerUnavailable

SERVICE_SKIP = "[service missing]"
_state: dict = {"postgres": None, "postgres_missing": "", "redis": None, "service_skips": []}


def _postgres_pass() -> bool:
    return os.environ.get("STRONGROOM_TEST_DB") == "postgres"


def _require_services() -> bool:
    return os.environ.get("STRONGROOM_REQUIRE_SERVICES") == "1"


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:  # noqa: ANN001
    """Runs before pytest-django reads settings, so DATABASE_URL can still be pointed at the cluster."""
    if not _postgres_pass():
        return
    server = PostgresServer()
    try:
        os.environ["DATABASE_URL"] = server.start()
    except ServerUnavailable as missing:
        server.stop()
        _state["postgres_missing"] = str(missing)
        return
    _state["postgres"] = server


def pytest_report_header(config) -> str:  # noqa: ANN001
    if _state["postgres"]:
        return f"database: throw-away PostgreSQL on port {_state['postgres'].port}"
    if _state["postgres_missing"]:
        return f"database: PostgreSQL pass requested but {_state['postgres_missing']}"
    return "database: SQLite (embedded default); tests marked `postgres` run in the PostgreSQL pass"


def pytest_collection_modifyitems(config, items) -> None:  # noqa: ANN001
    if _postgres_pass():
        if _state["postgres_missing"]:
            skip = pytest.mark.skip(reason=f"{SERVICE_SKIP} {_state['postgres_missing']}")
            for item in items:
                item.add_marker(skip)
        return
    kept = [item for item in items if item.get_closest_marker("postgres") is None]
    deselected = [item for item in items if item.get_closest_marker("postgres") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


def pytest_unconfigure(config) -> None:  # noqa: ANN001
    for name in ("postgres", "redis"):
        if _state[name] is not None:
            _state[name].stop()
            _state[name] = None


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A throw-away redis-server for this run, started on first use."""
    if _state["redis"] is None:
        server = RedisServer()
        try:
            server.start()
        except ServerUnavailable as missing:
            pytest.skip(f"{SERVICE_SKIP} {missing}")
        _state["redis"] = server
    return _state["redis"].url


def pytest_runtest_logreport(report) -> None:  # noqa: ANN001
    if report.skipped and SERVICE_SKIP in str(report.longrepr):
        _state["service_skips"].append(report.nodeid)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus) -> None:  # noqa: ANN001
    if _state["service_skips"] and _require_services():
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001
    skips = _state["service_skips"]
    if not skips:
        return
    banner = "!" * 100
    terminalreporter.write_line(banner, red=True, bold=True)
    terminalreporter.write_line(
        f"!!! {len(skips)} TEST(S) SKIPPED BECAUSE A SERVER IS NOT INSTALLED (PostgreSQL / Redis).", red=True, bold=True
    )
    terminalreporter.write_line("!!! Install Debian's `postgresql` and `redis-server` (`.ci/run` does).", red=True)
    if _require_services():
        terminalreporter.write_line("!!! STRONGROOM_REQUIRE_SERVICES=1: this run FAILS.", red=True, bold=True)
    terminalreporter.write_line(banner, red=True, bold=True)
