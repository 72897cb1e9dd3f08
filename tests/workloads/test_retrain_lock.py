"""The retrain lock's own logic on a stand-in blob (the real lease: test_retrain_e2e.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pytest
from azure.core.exceptions import ResourceExistsError

from workloads.retrain.lock import BlobLock, LockBusyError, LockLostError


@dataclass
class _Lease:
    renew_fails: bool = False
    renewals: int = 0
    released: bool = False

    def renew(self) -> None:
        if self.renew_fails:
            raise ConnectionError("storage unreachable")
        self.renewals += 1

    def release(self) -> None:
        self.released = True


@dataclass
class _Blob:
    lease: _Lease = field(default_factory=_Lease)
    leased_by_other: bool = False
    durations: list[int] = field(default_factory=list)

    def upload_blob(self, data: bytes, overwrite: bool) -> None:
        raise ResourceExistsError("exists")

    def acquire_lease(self, lease_duration: int) -> _Lease:
        self.durations.append(lease_duration)
        if self.leased_by_other:
            error = ResourceExistsError("There is already a lease present.")
            error.error_code = "LeaseAlreadyPresent"  # type: ignore[attr-defined]
            raise error
        return self.lease


@dataclass
class _Container:
    blob: _Blob

    def get_blob_client(self, name: str) -> _Blob:
        return self.blob


def _lock(blob: _Blob, **timing: float) -> BlobLock:
    container: Any = _Container(blob)
    return BlobLock(container, "locks/retrain-churn", **timing)  # type: ignore[arg-type]


def test_lock_finite_lease_renewed_and_released() -> None:
    blob = _Blob()

    with _lock(blob, lease_seconds=15, renew_every=0.05) as lock:
        time.sleep(0.3)
        lock.assert_held()

    assert blob.durations == [15]
    assert blob.lease.renewals >= 2
    assert blob.lease.released is True


def test_lock_leased_by_other_run_is_busy() -> None:
    with (
        pytest.raises(LockBusyError, match="leased by another run"),
        _lock(_Blob(leased_by_other=True)),
    ):
        pytest.fail("entered a lock another run holds")


def test_lock_renewal_failing_longer_than_lease_is_lost() -> None:
    blob = _Blob(lease=_Lease(renew_fails=True))

    with _lock(blob, lease_seconds=0.3, renew_every=0.05) as lock:
        lock.assert_held()
        time.sleep(0.4)
        with pytest.raises(LockLostError, match="not renewed in time"):
            lock.assert_held()

    assert blob.lease.released is True
