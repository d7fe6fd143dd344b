"""Type stubs of the shmsnap package."""
import os
from contextlib import AbstractContextManager
from typing import Any, AsyncIterator, Iterator, NamedTuple, Optional, Union

import numpy

from ._shmsnap import (PUBLISHER_STATS_FIELDS as PUBLISHER_STATS_FIELDS,
                       SUBSCRIBER_STATS_FIELDS as SUBSCRIBER_STATS_FIELDS, Busy as Busy, Error as Error, Info as Info, InvalidArgument as InvalidArgument,
                       InvalidRegion as InvalidRegion, LimitExceeded as LimitExceeded, NotFound as NotFound,
                       OutOfSpace as OutOfSpace, PermissionDenied as PermissionDenied, Protocol as Protocol,
                       SchemaMismatch as SchemaMismatch, SystemFailure as SystemFailure, TimedOut as TimedOut,
                       compile_schema as compile_schema, dtype_of as dtype_of, dump as dump,
                       fingerprint_of_descriptor as fingerprint_of_descriptor, topics as topics)
from . import _shmsnap

__version__: str

class Update(NamedTuple):
    data: Any
    info: Info

class Subscriber(_shmsnap.Subscriber):
    def __init__(self, topic: str, prefix: Optional[str] = None, id: Optional[str] = None,
                 mode: str = "notify", schema: Union[None, str, os.PathLike[str], dict] = None, *,
                 socket_dir: Union[None, str, os.PathLike[str]] = None) -> None: ...
    def wait(self, timeout: Optional[float] = None, *, as_array: bool = False) -> Optional[Update]: ...
    def poll(self, *, as_array: bool = False) -> Optional[Update]: ...
    def __iter__(self) -> Iterator[Update]: ...
    def updates(self, *, as_array: bool = False) -> AsyncIterator[Update]: ...
    def __enter__(self) -> Subscriber: ...
    def __exit__(self, *exc_info: Any) -> None: ...

class Publisher(_shmsnap.Publisher):
    def publish(self, value: Union[dict, numpy.void, numpy.ndarray]) -> int: ...
    def loan(self, *, clear: bool = True) -> AbstractContextManager[numpy.ndarray]: ...
    def __enter__(self) -> Publisher: ...
    def __exit__(self, *exc_info: Any) -> None: ...
