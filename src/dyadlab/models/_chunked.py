"""Run a simulation in chunks, locally or on a Dask cluster, with the same numbers.

Replications are split into chunks of a fixed size, and chunk ``i`` draws from its own
stream: the ``i``-th child of :meth:`numpy.random.SeedSequence.spawn` (power.diary), or
the seed's PCG64 jumped ``i`` times (:func:`streams`: power.apim's Monte Carlo and the
bootstraps, where chunk 0 then draws what the seed itself would, so results of one
chunk equal those of the earlier unchunked code). The streams belong to the chunks, not
to the workers, so a seeded run gives identical results whether the chunks run here one
after another or on any number of Dask workers in any order.

Examples
--------
>>> import numpy as np
>>> def draw(n, seed):
...     return float(np.random.default_rng(seed).standard_normal(n).sum())
>>> a = run_chunks(draw, [(3,), (2,)], np.random.SeedSequence(1).spawn(2))
>>> b = run_chunks(draw, [(3,), (2,)], np.random.SeedSequence(1).spawn(2))
>>> a == b
True
"""

from __future__ import annotations

import contextlib
import copy
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from dyadlab.exceptions import OptionError

__all__ = ["check_client", "run_chunks", "seed_sequence", "split", "streams"]


def seed_sequence(
    seed: int | np.random.SeedSequence | None, *, func: str
) -> np.random.SeedSequence:
    """A :class:`~numpy.random.SeedSequence` from an int seed (None: fresh entropy)."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is None or (isinstance(seed, int | np.integer) and not isinstance(seed, bool)):
        return np.random.SeedSequence(None if seed is None else int(seed))
    raise OptionError(f"{func}(): seed={seed!r} is not allowed; give an int seed or None.")


def streams(
    rng: int | np.random.Generator | np.random.BitGenerator | None, k: int, *, func: str
) -> list[np.random.BitGenerator]:
    """``k`` independent streams for ``k`` chunks: the generator jumped 0, 1, …, k-1 times.

    Chunk 0 draws exactly what ``rng`` itself would draw next, so a run whose
    replications fit in one chunk gives the same numbers as an unchunked one. An int
    seed (or None) starts a fresh :class:`~numpy.random.PCG64`, as
    :func:`numpy.random.default_rng` does; a Generator is moved on past the ``k``
    streams, so using it again gives new draws.

    Examples
    --------
    >>> import numpy as np
    >>> s = streams(5, 2, func="demo")  # a bit generator: drawing from it uses it up
    >>> float(np.random.default_rng(s[0]).random()) == float(np.random.default_rng(5).random())
    True
    """
    if isinstance(rng, np.random.Generator):
        base = rng.bit_generator
    elif isinstance(rng, np.random.BitGenerator):
        base = rng
    elif rng is None or (isinstance(rng, int | np.integer) and not isinstance(rng, bool)):
        base = np.random.PCG64(None if rng is None else int(rng))
    else:
        raise OptionError(
            f"{func}(): rng={rng!r} is not allowed; give an int seed or a numpy Generator."
        )
    if not hasattr(base, "jumped"):  # e.g. SFC64: seed PCG64 streams from it instead
        base = np.random.PCG64(int(np.random.Generator(base).integers(2**63)))
    out = [base.jumped(i) for i in range(k)]
    if isinstance(rng, np.random.Generator | np.random.BitGenerator):
        base.state = base.jumped(k).state
    return out


def split(total: int, size: int) -> list[int]:
    """Chunk sizes that add up to ``total`` (all ``size`` but the last)."""
    return [min(size, total - start) for start in range(0, total, size)]


def check_client(client: Any, *, func: str) -> None:
    """Raise a clear error unless ``client`` looks like a ``dask.distributed.Client``."""
    if client is not None and not (hasattr(client, "map") and hasattr(client, "gather")):
        raise OptionError(
            f"{func}(): client={client!r} has no map()/gather(); give a "
            "dask.distributed Client (pip install 'dyadlab[dask]')."
        )


def _show_progress(progress: bool | None) -> bool:
    if progress is None:
        return sys.stderr.isatty()
    return bool(progress)


def run_chunks(
    func: Callable[..., Any],
    args: Sequence[tuple[Any, ...]],
    seeds: Sequence[Any],
    *,
    client: Any = None,
    progress: bool | None = False,
    label: str = "simulating",
) -> list[Any]:
    """``[func(*args[i], seeds[i]) for i]``, locally or on ``client``, in input order.

    Parameters
    ----------
    func : callable
        A module-level function (picklable for Dask) taking ``*args[i]`` and a seed.
    args, seeds : sequences of equal length
        One entry per chunk; a seed is anything :func:`numpy.random.default_rng` takes
        (a :class:`~numpy.random.SeedSequence` or a bit generator from :func:`streams`).
    client : dask.distributed.Client, optional
        Run the chunks on this cluster (``client.map`` / ``client.gather``).
    progress : bool or None
        Show a progress bar on stderr: Rich locally, Dask's progress bar on a cluster.
        None: only when stderr is a terminal.
    label : str
        Text in front of the local progress bar.
    """
    if len(args) != len(seeds):
        raise ValueError("run_chunks: one seed per chunk")
    # a bit generator is used up by drawing from it: run on copies, as Dask does
    seeds = [copy.deepcopy(s) if isinstance(s, np.random.BitGenerator) else s for s in seeds]
    show = _show_progress(progress)
    if client is not None:
        cols = list(zip(*args, strict=True)) if args else []
        futures = client.map(func, *cols, list(seeds), pure=False)
        if show:
            from distributed import progress as dask_progress

            with contextlib.redirect_stdout(sys.stderr):
                dask_progress(futures)  # type: ignore[no-untyped-call]
        return list(client.gather(futures))
    if not show:
        return [func(*a, s) for a, s in zip(args, seeds, strict=True)]
    from rich.progress import Progress

    out = []
    with Progress(transient=True, console=_stderr_console()) as bar:
        task = bar.add_task(label, total=len(args))
        for a, s in zip(args, seeds, strict=True):
            out.append(func(*a, s))
            bar.advance(task)
    return out


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)
