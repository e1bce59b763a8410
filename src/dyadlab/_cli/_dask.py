"""``--scheduler ADDRESS``: connect a command to a Dask scheduler, with a one-line error.

Examples
--------
>>> with dask_client(None, "power diary") as client:
...     client is None
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from dyadlab.exceptions import OptionError

HELP = (
    "Address of a Dask scheduler (e.g. tcp://host:8786) to run the simulations on; "
    "the numbers equal a local run with the same --seed."
)


@contextlib.contextmanager
def dask_client(address: str | None, command: str) -> Iterator[Any]:
    """A ``dask.distributed.Client`` connected to ``address`` (None: no client)."""
    if not address:
        yield None
        return
    try:
        from distributed import Client
    except ImportError:
        raise OptionError(
            f"{command}: --scheduler needs Dask; install it with pip install 'dyadlab[dask]'."
        ) from None
    try:
        client = Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise OptionError(
            f"{command}: cannot reach the Dask scheduler at {address!r} ({reason}). Start "
            "one with `dask scheduler`, or leave out --scheduler to run here."
        ) from None
    try:
        yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]
