"""Where the local PostgreSQL runs from, as a normal user and as root.

As root the server must run as an unprivileged user; when that user cannot reach the project's
virtualenv (a private parent folder), the install is copied into the session's temp dir instead
of widening the permissions of the user's folders (what the wheel's own Python API would do).
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import psycopg
import pytest
from postgres_install import BUNDLED_PACKAGE, RunAs, postgres_bin_dir, server_bin_dir
from services import start_postgres

pytestmark = pytest.mark.integration


def _private_copy_of_install(tmp_path: Path) -> tuple[Path, Path]:
    """The bundled install copied under a 0700 folder, same layout (libs beside the package)."""
    prefix = postgres_bin_dir().parent
    package = prefix.parent
    private = tmp_path / "private"
    site = private / "site-packages"
    shutil.copytree(prefix, site / package.name / prefix.name, symlinks=True)
    libs = package.parent / f"{package.name}.libs"
    if libs.is_dir():
        shutil.copytree(libs, site / libs.name, symlinks=True)
    private.chmod(0o700)
    return private, site / package.name / prefix.name / "bin"


def test_server_bin_dir_keeps_install_in_place_when_user_not_switched(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    run_as = RunAs(uid=os.geteuid(), gid=os.getegid(), switch=False)

    assert server_bin_dir(postgres_bin_dir(), run_as, scratch) == postgres_bin_dir()
    assert not scratch.exists()


@pytest.mark.skipif(
    os.geteuid() != 0, reason="only root runs PostgreSQL as another user (it refuses root)"
)
def test_start_postgres_copies_install_when_server_user_cannot_reach_it(tmp_path: Path) -> None:
    private, bin_dir = _private_copy_of_install(tmp_path)
    run_as = RunAs.for_postgres()
    assert not run_as.can_run(bin_dir / "postgres")  # the precondition this test is about

    service = start_postgres(bin_dir=bin_dir)
    try:
        with psycopg.connect(service.dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION vector")
            vector = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'vector'"
            ).fetchone()
        copied = service.data_dir.parent / "server" / BUNDLED_PACKAGE / "pginstall" / "bin"
        copied_exists = (copied / "postgres").is_file()
    finally:
        service.stop()

    assert vector is not None
    assert copied_exists
    assert stat.S_IMODE(private.stat().st_mode) == 0o700  # nothing widened outside the copy
    assert not service.data_dir.parent.exists()  # the copy goes with the session
