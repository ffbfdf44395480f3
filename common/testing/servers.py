"""Throw-away PostgreSQL and Redis servers for tests and benchmarks, from the installed binaries.

PostgreSQL refuses to run as root, so as root the cluster belongs to the `postgres` system user
and its commands run through `runuser`. Both servers listen on 127.0.0.1 on a free port.
"""

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path


class ServerUnavailable(RuntimeError):
    """The server's binaries are not installed on this machine."""


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_bin_dir() -> Path | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True)
    for directory in candidates:
        if Path(directory, "pg_ctl").exists():
            return Path(directory)
    found = shutil.which("pg_ctl")
    return Path(found).resolve().parent if found else None


@dataclass
class PostgresServer:
    """A private cluster in a temporary directory. `durable=False` turns fsync off (tests only)."""

    durable: bool = False
    port: int = 0
    base: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="strongroom-pg-")))
    user: str = "strongroom"
    database: str = "strongroom"
    _bin: Path | None = None

    @staticmethod
    def available() -> bool:
        return _postgres_bin_dir() is not None

    def _run(self, *args: str) -> None:
        command = [str(self._bin / args[0]), *args[1:]]  # type: ignore[operator]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> str:
        self._bin = _postgres_bin_dir()
        if self._bin is None:
            raise ServerUnavailable("PostgreSQL binaries not found (Debian package `postgresql`)")
        data, sockets = self.base / "data", self.base / "sock"
        data.mkdir()
        sockets.mkdir()
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            for path in (self.base, data, sockets):
                os.chown(path, account.pw_uid, account.pw_gid)
            self.base.chmod(0o755)
        self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")
        self.port = self.port or free_port()
        options = [
            "-c listen_addresses=127.0.0.1",
            f"-p {self.port}",
            f"-k {sockets}",
            "-c max_connections=200",
            "-c shared_buffers=256MB",
        ]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        log = str(self.base / "log")
        self._run("pg_ctl", "-D", str(data), "-l", log, "-w", "-t", "60", "-o", " ".join(options), "start")
        self._psql(f"CREATE ROLE {self.user} LOGIN CREATEDB", f"CREATE DATABASE {self.database} OWNER {self.user}")
        return self.url

    def _psql(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres", dbname="postgres") as connection:
            connection.autocommit = True
            for statement in statements:
                connection.execute(statement)

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def stop(self) -> None:
        if self._bin is not None and (self.base / "data" / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self._run("pg_ctl", "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)


@dataclass
class RedisServer:
    port: int = 0
    _process: subprocess.Popen | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("redis-server") is not None

    def start(self) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServerUnavailable("redis-server not found (Debian package `redis-server`)")
        self.port = self.port or free_port()
        self._process = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return self.url
            time.sleep(0.05)
        self.stop()
        raise ServerUnavailable("redis-server did not start listening within 10 s")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=5)
            self._process = None
