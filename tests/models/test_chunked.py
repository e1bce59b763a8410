"""Seeded chunks: streams per chunk, chunk 0 equal to the seed's own draws, any order."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.exceptions import OptionError
from dyadlab.models import _bootstrap as bs
from dyadlab.models._chunked import run_chunks, split, streams


def _draw(n, seed):
    return np.random.default_rng(seed).standard_normal(n)


def _draws(seeds):
    return [_draw(5, s) for s in seeds]


def test_chunk_zero_is_the_seed_itself_and_chunks_differ():
    first, *others = _draws(streams(7, 3, func="t"))
    assert np.array_equal(first, np.random.default_rng(7).standard_normal(5))
    assert not np.array_equal(first, others[0])
    assert not np.array_equal(others[0], others[1])
    again = _draws(streams(7, 3, func="t"))  # the same seed gives the same streams
    assert all(np.array_equal(a, b) for a, b in zip([first, *others], again, strict=True))


def test_running_chunks_does_not_use_up_the_streams():
    seeds = streams(2, 2, func="t")
    args = [(3,), (3,)]
    a = run_chunks(_draw, args, seeds)
    b = run_chunks(_draw, args, seeds)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_a_generator_moves_on_past_its_streams():
    g = np.random.default_rng(1)
    a = _draw(4, streams(g, 2, func="t")[0])
    b = _draw(4, streams(g, 2, func="t")[0])
    assert not np.array_equal(a, b)
    assert np.array_equal(b, _draw(4, streams(1, 3, func="t")[2]))


def test_bad_seed_is_an_option_error():
    with pytest.raises(OptionError, match="rng"):
        streams("x", 2, func="t")


class ReversedClient:
    """Runs the chunks in reverse order, as a cluster may, and returns them in order."""

    def map(self, func, *columns, pure=True):
        tasks = list(zip(*columns, strict=True))
        done = {i: func(*tasks[i]) for i in reversed(range(len(tasks)))}
        return [done[i] for i in range(len(tasks))]

    def gather(self, futures):
        return list(futures)


def test_results_do_not_depend_on_the_order_chunks_run_in():
    seeds = streams(3, 4, func="t")
    args = [(n,) for n in split(10, 3)]
    here = run_chunks(_draw, args, seeds)
    there = run_chunks(_draw, args, streams(3, 4, func="t"), client=ReversedClient())
    assert [len(x) for x in here] == [3, 3, 3, 1]
    assert all(np.array_equal(a, b) for a, b in zip(here, there, strict=True))


def _first_weight(w):
    return w[:, :1]


def test_bootstrap_replicates_are_resample_weights_in_chunks():
    n_boot = bs.CHUNK + 7
    reps = bs.replicates(_first_weight, 9, n_boot, 5)
    assert reps.shape == (n_boot, 1)
    head = bs.resample_weights(9, bs.CHUNK, np.random.default_rng(5))[:, :1]
    assert np.array_equal(reps[: bs.CHUNK], head)
    tail = bs.resample_weights(9, 7, np.random.default_rng(streams(5, 2, func="t")[1]))[:, :1]
    assert np.array_equal(reps[bs.CHUNK :], tail)
