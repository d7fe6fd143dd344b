"""asyncio delivery for shmsnap.Subscriber: the subscriber's pollable descriptor is
registered with ``loop.add_reader``; each readiness runs ``poll()`` on the loop's
thread (non-blocking), and delivered snapshots are handed to the async iterator.
Latest-value semantics: a slow consumer sees the newest update, never a backlog."""
from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator


async def updates(subscriber: Any, *, as_array: bool = False) -> AsyncIterator[Any]:
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    fd = subscriber.fileno()

    def on_readable() -> None:
        ready.set()

    loop.add_reader(fd, on_readable)
    try:
        while not subscriber.closed:
            update = subscriber.poll(as_array=as_array)
            if update is not None:
                yield update
                continue
            ready.clear()
            await ready.wait()
    finally:
        loop.remove_reader(fd)
