"""The per-process cache of token principals (services.access.tokens.TokenCache)."""

from __future__ import annotations

import asyncio

from hookd.core.access import ADMIN, Principal
from hookd.services.access.tokens import TokenCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_an_answer_is_kept_for_its_ttl_then_read_again() -> None:
    clock = Clock()
    cache = TokenCache(ttl=1.0, clock=clock)
    loads: list[Principal | None] = [ADMIN, None]

    async def load() -> Principal | None:
        return loads.pop(0)

    assert await cache.principal(b"k", load) is ADMIN
    clock.now = 0.9
    assert await cache.principal(b"k", load) is ADMIN  # kept: no second load
    clock.now = 1.0
    assert await cache.principal(b"k", load) is None  # read again: revoked
    assert loads == []


async def test_concurrent_lookups_share_one_load() -> None:
    cache = TokenCache(clock=Clock())
    release = asyncio.Event()
    loads = 0

    async def load() -> Principal | None:
        nonlocal loads
        loads += 1
        await release.wait()
        return ADMIN

    waiting = [asyncio.create_task(cache.principal(b"k", load)) for _ in range(3)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [ADMIN] * 3
    assert loads == 1


async def test_forget_drops_answers_and_loads_begun_before() -> None:
    cache = TokenCache(clock=Clock())
    release = asyncio.Event()

    async def before_revocation() -> Principal | None:
        await release.wait()
        return ADMIN

    async def after_revocation() -> Principal | None:
        return None

    before = asyncio.create_task(cache.principal(b"k", before_revocation))
    await asyncio.sleep(0)
    cache.forget()  # revoked while the load above runs
    assert await cache.principal(b"k", after_revocation) is None  # not joined to the older load
    release.set()
    assert await before is ADMIN  # its caller began before the revocation
    # The older answer was not kept over the newer one.
    assert await cache.principal(b"k", before_revocation) is None


async def test_a_failed_load_is_not_kept() -> None:
    cache = TokenCache(clock=Clock())

    async def failing() -> Principal | None:
        raise ConnectionError("database down")

    async def working() -> Principal | None:
        return ADMIN

    try:
        await cache.principal(b"k", failing)
    except ConnectionError:
        pass
    else:
        raise AssertionError("the failure reaches the caller")
    assert await cache.principal(b"k", working) is ADMIN
