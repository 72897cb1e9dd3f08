"""The garbage-collector switches that keep a plan's CPU time down: paused during a mock run
(restored after it, also when the program raises) and off for the life of the CLI process."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from offline import cli
from offline.runner import run_callable


@pytest.fixture(autouse=True)
def _collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    if enabled:
        gc.enable()
    else:
        gc.disable()


def test_run_callable_collector_paused_during_run_restored_after() -> None:
    seen: list[bool] = []
    gc.enable()
    run_callable(lambda: seen.append(gc.isenabled()))
    assert seen == [False]
    assert gc.isenabled()


def test_run_callable_collector_restored_when_program_raises() -> None:
    def body() -> None:
        raise ValueError("bad program")

    gc.enable()
    with pytest.raises(ValueError, match="bad program"):
        run_callable(body)
    assert gc.isenabled()


def test_run_callable_collector_left_off_when_caller_turned_it_off() -> None:
    gc.disable()
    run_callable(lambda: None)
    assert not gc.isenabled()


def test_console_main_collector_off_while_command_runs_heap_frozen_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []

    def command() -> int:
        seen.append(gc.isenabled())
        return 3

    monkeypatch.setattr(cli, "main", command)
    gc.enable()
    gc.unfreeze()
    assert cli.console_main() == 3
    assert seen == [False]
    # Frozen objects are skipped by every later collection, the interpreter's at exit included.
    assert gc.get_freeze_count() > 0
