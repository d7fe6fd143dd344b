"""shmsnap for Python: follow and publish shmsnap topics (latest-state snapshots in
shared memory) as dicts or numpy structured records.

    import shmsnap
    with shmsnap.Subscriber("pose") as sub:
        for update in sub:                      # blocks; the GIL is released
            print(update.info.seq, update.data["position"])

The schema travels in every region, so any topic is readable without generated
code. Errors are shmsnap.Error subclasses carrying the C++ message.
"""
from __future__ import annotations

import contextlib
import os
from typing import Any, Iterator, NamedTuple, Optional, Union

import numpy as _numpy

from . import _shmsnap
from ._shmsnap import (  # noqa: F401  (re-exported)
    Busy,
    Error,
    Info,
    InvalidArgument,
    InvalidRegion,
    LimitExceeded,
    NotFound,
    OutOfSpace,
    PermissionDenied,
    PUBLISHER_STATS_FIELDS,
    Protocol,
    SchemaMismatch,
    SUBSCRIBER_STATS_FIELDS,
    SystemFailure,
    TimedOut,
    compile_schema,
    dtype_of,
    dump,
    fingerprint_of_descriptor,
    topics,
)

__version__ = _shmsnap.__version__

__all__ = [
    "Subscriber", "Publisher", "Update", "Info", "topics", "dump", "compile_schema", "dtype_of",
    "fingerprint_of_descriptor", "Error", "InvalidArgument", "NotFound", "Busy", "PermissionDenied",
    "InvalidRegion", "SchemaMismatch", "LimitExceeded", "OutOfSpace", "Protocol", "TimedOut",
    "SystemFailure", "SUBSCRIBER_STATS_FIELDS", "PUBLISHER_STATS_FIELDS",
]


class Update(NamedTuple):
    """One delivered snapshot: ``data`` (dict, or numpy record with as_array=True) and its ``info``."""

    data: Any
    info: Info


class Subscriber(_shmsnap.Subscriber):
    """Follows one topic. Attaching copies the current snapshot at once (a late
    joiner starts with current state); ``latest()`` / ``latest_array()`` read it.

    Args:
        topic: the topic name ([A-Za-z0-9_.-]).
        prefix: resource namespace; None = $SHMSNAP_PREFIX or "shmsnap".
        id: subscriber id, unique per topic; None = "sub-<pid>-<n>".
        mode: "notify" (block on the queue), "spin" (poll; lowest latency, burns a
            core) or "hybrid".
        schema: optional expected schema (a .toml path, descriptor JSON or schema
            dict); raises SchemaMismatch naming the first differing field when the
            topic carries an incompatible layout.
        socket_dir: socket mode: attach through the publisher's socket
            ``<socket_dir>/<topic>.sock`` (a directory shared between containers)
            instead of /dev/shm; None = $SHMSNAP_SOCKET_DIR; "" (or None with the
            variable unset): named mode.

    Raises NotFound when no publisher has created the topic (in socket mode: when
    none answers on its socket).
    A Subscriber closes (BYE to the publisher, its queue removed) on ``close()``,
    at the end of a ``with`` block, or when garbage collected.
    """

    def __init__(self, topic: str, prefix: Optional[str] = None, id: Optional[str] = None,
                 mode: str = "notify", schema: Union[None, str, os.PathLike, dict] = None, *,
                 socket_dir: Union[None, str, os.PathLike] = None) -> None:
        super().__init__(topic, prefix, id, mode, schema,
                         socket_dir=None if socket_dir is None else os.fspath(socket_dir))

    def wait(self, timeout: Optional[float] = None, *, as_array: bool = False) -> Optional[Update]:
        """Blocks up to ``timeout`` seconds (None: forever) for a newer snapshot and
        returns it as an Update. Returns None on timeout, and as soon as a status event
        (publisher lost, re-attached, stalled, resumed) was handed to the on_status
        callbacks; ``stale`` tells the state then. The GIL is released meanwhile; on the
        main thread signals (Ctrl-C) are handled every 200 ms."""
        if not self._wait(timeout):
            return None
        return Update(self.latest_array() if as_array else self.latest(), self.info)

    def poll(self, *, as_array: bool = False) -> Optional[Update]:
        """Handles pending notifications without blocking; the newest Update or None."""
        if not self._poll():
            return None
        return Update(self.latest_array() if as_array else self.latest(), self.info)

    def __iter__(self) -> Iterator[Update]:
        """Every update as it comes (blocks between them; status events go to the
        on_status callbacks as they happen); ends when the subscriber is closed."""
        while not self.closed:
            update = self.wait(None)
            if update is not None:
                yield update

    def updates(self, *, as_array: bool = False):
        """``async for update in sub.updates():`` delivery on the running asyncio loop
        (the subscriber's fileno() is registered with loop.add_reader)."""
        from ._aio import updates
        return updates(self, as_array=as_array)

    def __enter__(self) -> "Subscriber":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<shmsnap.Subscriber closed>"
        return f"<shmsnap.Subscriber topic={self.topic!r} id={self.id!r} schema={self.schema['name']!r}>"


class Publisher(_shmsnap.Publisher):
    """The one writer of a topic.

    Args:
        topic: the topic to create.
        schema: a .toml schema file (compiled in-process by the schema compiler), a
            descriptor JSON string, or a schema dict such as ``Subscriber.schema``.
        prefix: resource namespace; None = $SHMSNAP_PREFIX or "shmsnap".
        slot_count: 2..255 snapshot slots.
        max_subscribers: bound of the subscriber table.
        mode: permission bits of the region.
        fan_out: "caller" or "notifier_thread".

    Raises Busy when a live publisher holds the topic. ``close()``, the end of a
    ``with`` block or garbage collection shuts the topic down (SHUTDOWN to every
    subscriber, region and queues removed).
    """

    def publish(self, value: Union[dict, _numpy.void, _numpy.ndarray]) -> int:
        """Publishes a dict (fields left out are zero; unknown keys, wrong types,
        out-of-range numbers and too-long strings raise InvalidArgument, a
        ValueError, naming the field, and publish nothing) or a numpy record of
        ``self.dtype``. Returns the sequence."""
        if isinstance(value, (_numpy.void, _numpy.ndarray)):
            record = _numpy.asarray(value)
            if record.dtype != self.dtype or record.size != 1:
                raise InvalidArgument(
                    f"publish(): a numpy value must be one record of Publisher.dtype, got {record.dtype} "
                    f"x {record.size}")
            return self._publish_bytes(_numpy.ascontiguousarray(record).reshape(()).tobytes())
        return self._publish_dict(value)

    @contextlib.contextmanager
    def loan(self, *, clear: bool = True) -> Iterator[_numpy.ndarray]:
        """``with pub.loan() as snap: snap["x"] = 1.0`` writes the next slot in
        place (a 0-d numpy array viewing shared memory) and publishes it on exit;
        an exception aborts it (nothing published). ``clear`` zeroes the slot first
        (otherwise it holds an older snapshot). Do not keep the view after the block."""
        view = self._begin_loan(clear)
        try:
            yield view
        except BaseException:
            view.flags.writeable = False
            self._abort_loan()
            raise
        view.flags.writeable = False
        self._commit_loan()

    def __enter__(self) -> "Publisher":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "<shmsnap.Publisher closed>"
        return f"<shmsnap.Publisher topic={self.topic!r} schema={self.schema['name']!r} epoch={self.epoch}>"
