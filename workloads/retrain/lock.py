"""One retrain at a time: a lease on a lock blob in the raw container.

The schedule (CronJob), the new-data trigger and the degradation trigger are independent, so
two of them can start a retrain at the same moment; only one may register a version and move
the ``champion`` alias. Whoever holds the blob lease is that one.

Choice: a **finite lease (60 s) renewed every 15 s** by a background thread while the run
works, released in ``finally`` -- not an infinite lease. An infinite lease is only released by
the process that took it; a retrain pod that is OOM-killed, evicted from a spot GPU node or
stopped by the Job's ``activeDeadlineSeconds`` never reaches ``finally``, and every later
retrain would find the lock taken until someone broke the lease by hand. A finite lease
expires on its own at most 60 s after its holder died. The cost is the renewal thread, and a
run that loses its lease (renewal failed for longer than the lease) must not publish: the
caller checks :meth:`BlobLock.assert_held` before registering and before moving an alias.

Lease durations are 15..60 s or infinite, and a blob with an active lease refuses a second
acquire with 409 ``LeaseAlreadyPresent``
(https://learn.microsoft.com/rest/api/storageservices/lease-blob).
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

from azure.core.exceptions import HttpResponseError, ResourceExistsError
from azure.storage.blob import BlobLeaseClient, ContainerClient

LEASE_SECONDS = 60
"""The longest finite lease Blob storage grants."""
RENEW_EVERY_SECONDS = 15
"""Renew well inside the lease: three renewals may fail before it lapses."""
LEASE_ALREADY_PRESENT = "LeaseAlreadyPresent"

log = logging.getLogger(__name__)


class LockBusyError(RuntimeError):
    """Another run holds the lease: this run must exit without doing anything."""


class LockLostError(RuntimeError):
    """This run's lease could not be renewed in time: it must not publish anything."""


class BlobLock:
    """Context manager holding a renewed lease on ``container/name``."""

    def __init__(
        self,
        container: ContainerClient,
        name: str,
        *,
        lease_seconds: int = LEASE_SECONDS,
        renew_every: float = RENEW_EVERY_SECONDS,
    ) -> None:
        self._blob = container.get_blob_client(name)
        self.name = name
        self._lease_seconds = lease_seconds
        self._renew_every = renew_every
        self._lease: BlobLeaseClient | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_renewal = 0.0
        self._renew_error: Exception | None = None

    def __enter__(self) -> BlobLock:
        try:
            # The lock blob is empty; creating it is idempotent (another run may win the race).
            self._blob.upload_blob(b"", overwrite=False)
        except ResourceExistsError:
            pass
        except HttpResponseError as exc:
            # Uploading over a leased blob without the lease id is refused: someone holds it.
            if getattr(exc, "error_code", None) != "LeaseIdMissing":
                raise
        try:
            self._lease = self._blob.acquire_lease(lease_duration=self._lease_seconds)
        except HttpResponseError as exc:
            if getattr(exc, "error_code", None) == LEASE_ALREADY_PRESENT or exc.status_code == 409:
                raise LockBusyError(f"the lock blob {self.name} is leased by another run") from exc
            raise
        self._last_renewal = time.monotonic()
        self._thread = threading.Thread(target=self._renew, name="lock-renewal", daemon=True)
        self._thread.start()
        log.info("holding the lease on %s (%d s, renewed)", self.name, self._lease_seconds)
        return self

    def _renew(self) -> None:
        while not self._stop.wait(self._renew_every):
            assert self._lease is not None
            try:
                self._lease.renew()
            except Exception as exc:  # network blips: retried at the next tick
                self._renew_error = exc
                log.warning("could not renew the lease on %s: %s", self.name, exc)
            else:
                self._last_renewal = time.monotonic()
                self._renew_error = None

    def assert_held(self) -> None:
        """Raise :class:`LockLostError` unless the lease was renewed within its duration."""
        if self._lease is None:
            raise LockLostError(f"the lease on {self.name} was never taken")
        # Leave a margin for the call that follows this check.
        if time.monotonic() - self._last_renewal > self._lease_seconds - self._renew_every:
            raise LockLostError(
                f"the lease on {self.name} was not renewed in time ({self._renew_error})"
            )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._renew_every + 5)
        if self._lease is not None:
            try:
                self._lease.release()
            except HttpResponseError as error:  # expired and taken over: nothing to release
                log.warning("could not release the lease on %s: %s", self.name, error)
            else:
                log.info("released the lease on %s", self.name)
