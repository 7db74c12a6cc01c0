"""Freed memory goes back to the system once input has been quiet after a large burst."""

from __future__ import annotations

import asyncio

import pytest

from tandem.lsp import memory


async def test_the_trim_waits_for_a_quiet_moment_after_many_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(memory, "TRIM_DELAY_SECONDS", 0.05)
    released: list[bool] = []
    trim = memory.IdleTrim(release=lambda: released.append(True))
    trim.read(memory.TRIM_AFTER_BYTES - 1)
    await asyncio.sleep(0.1)
    assert released == []  # too little input to be worth a walk of the heap
    for _ in range(5):  # a burst: each chunk postpones the trim
        trim.read(memory.TRIM_AFTER_BYTES)
        await asyncio.sleep(0.01)
    assert released == []
    await asyncio.sleep(0.1)
    assert released == [True]
    await asyncio.sleep(0.1)
    assert released == [True]  # once per burst
