"""The shared numerics (models/_numerics.py) against closed forms."""

from __future__ import annotations

import numpy as np
import pytest

from dyadlab.models._numerics import (
    fd_derivatives,
    fd_gradient,
    fd_hessian,
    newton_batch,
    newton_polish,
    normal_loglik,
    saturated_loglik,
)

A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, 0.5], [0.0, 0.5, 1.0]])
B = np.array([1.0, -2.0, 0.5])


def f(t: np.ndarray) -> float:
    return float(0.5 * t @ A @ t - B @ t + np.sin(t[0]))


def grad(t: np.ndarray) -> np.ndarray:
    return A @ t - B + np.array([np.cos(t[0]), 0.0, 0.0])


def hess(t: np.ndarray) -> np.ndarray:
    return A - np.diag([np.sin(t[0]), 0.0, 0.0])


def test_finite_differences_match_the_analytic_derivatives() -> None:
    t = np.array([0.3, -0.2, 0.7])
    g, H = fd_derivatives(f, t, f(t), np.arange(3), 1e-4)
    np.testing.assert_allclose(g, grad(t), atol=1e-7)
    np.testing.assert_allclose(H, hess(t), atol=1e-5)
    np.testing.assert_allclose(fd_hessian(grad, t, 1e-5), hess(t), atol=1e-7)
    # a step per position, over a subset of the positions
    steps, inner = np.array([1e-4, 1e-3, 1e-4]), np.array([0, 2])
    g, H = fd_derivatives(f, t, f(t), inner, steps)
    np.testing.assert_allclose(g, grad(t)[inner], atol=1e-7)
    np.testing.assert_allclose(H, hess(t)[np.ix_(inner, inner)], atol=1e-5)
    np.testing.assert_allclose(fd_hessian(grad, t, steps, inner), H, atol=1e-5)
    np.testing.assert_allclose(fd_gradient(f, t, steps, inner), grad(t) * [1, 0, 1], atol=1e-7)
    # forward differences: one evaluation per position, first-order accurate
    fwd = fd_gradient(f, t, 1.49e-8, at=f(t))
    np.testing.assert_allclose(fwd, grad(t), atol=1e-6)
    assert not np.allclose(fwd, fd_gradient(f, t, 1e-5), rtol=0, atol=1e-12)  # not central


def test_batched_newton_minimises_every_row() -> None:
    """Each row its own problem (a shifted quadratic plus a sine); rows converge apart."""
    shift = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])

    def fb(t: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
        return np.array([f(ti - s) for ti, s in zip(t, shift[rows], strict=True)])

    t, converged = newton_batch(fb, np.zeros((3, 3)))
    assert converged.all()
    for r in range(3):
        np.testing.assert_allclose(grad(t[r] - shift[r]), 0.0, atol=1e-7)


def test_batched_newton_on_stacked_points_takes_the_same_steps() -> None:
    """``stacked=True`` (all finite-difference points of a row in one call) changes how
    ``f`` is called, not the steps; a row that cannot improve reports no convergence."""
    shift = np.array([[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]])

    def fb(t: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
        return np.array([f(ti - s) for ti, s in zip(t, shift[rows], strict=True)])

    def stacked(t: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
        return np.array([[f(p - s) for p in ti] for ti, s in zip(t, shift[rows], strict=True)])

    one, ok_one = newton_batch(fb, np.zeros((2, 3)))
    both, ok_both = newton_batch(stacked, np.zeros((2, 3)), stacked=True)
    np.testing.assert_array_equal(one, both)
    assert ok_one.all() and ok_both.all()
    _, ok = newton_batch(fb, np.zeros((2, 3)), max_iter=1)
    assert not ok.any()


@pytest.mark.parametrize("with_grad", [False, True])
def test_newton_reaches_the_minimum_and_its_inverse_hessian(with_grad: bool) -> None:
    t0 = np.linalg.solve(A, B) + 0.05
    t, ft, _, ok, cov = newton_polish(
        f, t0, f(t0), np.full(3, -9.0), np.full(3, 9.0), steps=20, grad=grad if with_grad else None
    )
    assert ok
    np.testing.assert_allclose(grad(t), 0.0, atol=1e-7)
    assert ft == pytest.approx(f(t))
    np.testing.assert_allclose(cov, np.linalg.inv(hess(t)), rtol=1e-4)


def test_saturated_loglik_is_the_normal_loglik_at_the_ml_estimates() -> None:
    z = np.random.default_rng(1).normal(size=(40, 3)) @ np.linalg.cholesky(A).T
    c = z - z.mean(axis=0)
    assert saturated_loglik(z) == pytest.approx(normal_loglik(c, c.T @ c / 40))
    assert saturated_loglik(z, centred=False) == pytest.approx(normal_loglik(z, z.T @ z / 40))
    doubled = saturated_loglik(z, np.full(40, 2.0))
    assert doubled == pytest.approx(saturated_loglik(np.vstack([z, z])))
    assert normal_loglik(c, -np.eye(3)) == -np.inf
