"""A real PostgreSQL server for tests and benchmarks: Debian's `postgresql` package, started with
`initdb` + `pg_ctl` in a temporary folder on a free port.

PostgreSQL refuses to run as root, so as root the server runs as an unprivileged system user
(`nobody`) and its folder is handed to that user. Host connections use scram-sha-256: every role
made here has the password in `PASSWORD_ENV`, which the cockpit reads through `password_env`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PG_BIN_DIRS = tuple(Path(f"/usr/lib/postgresql/{v}/bin") for v in (17, 16, 15, 14, 13))
PACKAGE = "postgresql"
PASSWORD = "cockpit-test-" + uuid.uuid4().hex[:8]
PASSWORD_ENV = "COCKPIT_TEST_PGPASSWORD"
"""The variable the test configs name in `password_env`."""
ADMIN = "cockpit_admin"
RUN_AS = "nobody"


def pg_bin_dir() -> Path | None:
    """The folder with initdb and pg_ctl, or None when the package is not installed."""
    for candidate in PG_BIN_DIRS:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """One throwaway cluster. `url(db, role)` gives a password-less URL for the cockpit."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="cockpit-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._as_user = RUN_AS if os.geteuid() == 0 else None
        if self._as_user:
            shutil.chown(self.root, user=self._as_user)
        self.root.chmod(0o700)
        pwfile = self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self._as_user:
            shutil.chown(pwfile, user=self._as_user)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            ADMIN,
            f"--pwfile={pwfile}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        pwfile.unlink()
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                "\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                "max_connections = 200\n"
                "shared_buffers = 16MB\n"
                "log_min_messages = fatal\n"
            )
        self.start()

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin_dir / tool), *args],
            user=self._as_user,
            cwd=self.root,
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start (or restart after a stop or a kill, running crash recovery) and wait until up.

        The postmaster is our own child (not pg_ctl's), so a killed one is reaped at once and
        its pid never lingers as a zombie that blocks the restart.
        """
        import time

        for attempt in range(3):
            self.process = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.data), "-p", str(self.port)],
                user=self._as_user,
                cwd=self.root,
                stdout=subprocess.DEVNULL,
                stderr=(self.root / "log").open("a"),
                start_new_session=True,
            )
            deadline = time.monotonic() + 60
            while self.process.poll() is None and time.monotonic() < deadline:
                ready = subprocess.run(
                    [str(self.bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p",
                     str(self.port), "-t", "2"],
                    check=False,
                )  # fmt: skip
                if ready.returncode == 0:
                    return
                time.sleep(0.02)  # liveness bound on the server's start, not waiting for work
            self.process.kill()
            self.process.wait()
            if "Address already in use" in self._log_tail() and attempt < 2:
                self.port = free_port()  # another test process took the port meanwhile
                continue
            raise RuntimeError(f"postgres did not start: {self._log_tail()}")

    def stop(self, mode: str = "fast") -> None:
        """Shut down: fast (clients disconnected, checkpoint) or immediate (no checkpoint)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT if mode == "fast" else signal.SIGQUIT)
            self.process.wait(timeout=60)

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend, as a host crash would; wait until gone."""
        if self.process.poll() is not None:
            return
        backends = _children(self.process.pid)
        for victim in (self.process.pid, *backends):
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        self.process.wait(timeout=60)
        for backend in backends:
            _wait_gone(backend)

    def running(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def _log_tail(self) -> str:
        try:
            return (self.root / "log").read_text()[-2000:]
        except OSError:
            return ""

    # -- databases and roles -----------------------------------------------------------------

    def url(self, database: str, role: str = ADMIN, **params: str) -> str:
        """A URL without a password (the cockpit refuses those); `params` become the query."""
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"postgresql://{role}@127.0.0.1:{self.port}/{database}" + (
            f"?{query}" if query else ""
        )

    def admin(self, database: str = "postgres") -> Any:
        """An autocommit psycopg connection as the superuser."""
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=ADMIN,
            password=PASSWORD,
            dbname=database,
            autocommit=True,
        )

    def create_database(self, owner: str = ADMIN) -> str:
        """A new empty database, owned by `owner`; returns its name."""
        name = "t_" + uuid.uuid4().hex[:12]
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
            conn.execute(f'REVOKE ALL ON DATABASE "{name}" FROM PUBLIC')
        return name

    def create_role(self, name: str | None = None) -> str:
        """A login role (no rights beyond LOGIN) with the test password."""
        from psycopg import sql

        name = name or "r_" + uuid.uuid4().hex[:10]
        with self.admin() as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(name), sql.Literal(PASSWORD)
                )
            )
        return name

    def grant_connect(self, database: str, role: str) -> None:
        with self.admin() as conn:
            conn.execute(f'GRANT CONNECT ON DATABASE "{database}" TO "{role}"')

    def terminate_backends(self, database: str) -> int:
        """Drop every connection to `database` (as a network blip or a failover would)."""
        with self.admin() as conn:
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchall()
        return len(rows)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[1] == str(pid):
            found.append(int(entry.name))
    return found


def _wait_gone(pid: int) -> None:
    """Wait until `pid` has exited (the postmaster is not our child, so poll /proc)."""
    import time

    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists():
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            return
        if state == "Z":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"process {pid} did not exit after SIGKILL")
        time.sleep(0.01)  # liveness bound on another process's exit, not waiting for work


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A started server, removed afterwards. Raises LookupError when the package is missing."""
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        raise LookupError(f"needs the {PACKAGE} package (initdb, pg_ctl)")
    server = PostgresServer(bin_dir)
    os.environ[PASSWORD_ENV] = PASSWORD
    try:
        yield server
    finally:
        server.close()
