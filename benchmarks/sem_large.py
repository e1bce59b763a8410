"""Benchmark: the distinguishable SEM APIM at 100,000 dyads, dyadlab against lavaan.

Target (issue 21): with complete data, at least 2x faster than ``lavaan::sem`` with the
same log-likelihood. dyadlab fits from the sample moments when no value is missing
(FIML from the rows only with missing values), as lavaan does.

Timed in one run on the same simulated data (written to a CSV read by both):

- lavaan: ``sem(model, data = wide, meanstructure = TRUE)`` (its default, listwise) and
  with ``missing = "ml"`` (the call dyadlab reproduces; tests/reference/apim.R); the
  reshape to dyad-wide data is not timed. Best of three.
- dyadlab: ``dl.apim(...)`` from individual-format data (data checks, reshape, the fit
  with standard errors and the three likelihood-ratio and Wald role tests), and the
  fit step alone on the dyad-wide arrays. Best of three.

The R part is skipped without Rscript and lavaan. Run: ``python benchmarks/sem_large.py``.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

from apim import run_r, simulate

import dyadlab as dl
from dyadlab.models._apim_design import prepare
from dyadlab.models._apim_fit import sem_distinguishable

N_DYADS = 100_000

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lavaan))
d <- read.csv("{path}")
w <- reshape(d, idvar = "dyad", timevar = "role", direction = "wide", sep = "_")
m <- 'y_1 ~ x_1 + x_2
      y_2 ~ x_2 + x_1
      y_1 ~~ y_2'
best <- function(f) min(sapply(1:3, function(i) system.time(f())[["elapsed"]]))
f1 <- sem(m, data = w, meanstructure = TRUE)
f2 <- sem(m, data = w, meanstructure = TRUE, missing = "ml")
t1 <- best(function() sem(m, data = w, meanstructure = TRUE))
t2 <- best(function() sem(m, data = w, meanstructure = TRUE, missing = "ml"))
cat(sprintf("R_DEFAULT %.4f %.6f\n", t1, fitMeasures(f1, "logl")))
cat(sprintf("R_ML %.4f %.6f\n", t2, fitMeasures(f2, "logl")))
"""


def best_of(f: Callable[[], object], k: int = 3) -> float:
    """Smallest wall time of ``k`` calls of ``f``."""
    times = []
    for _ in range(k):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    """Time both and print the ratios and the log-likelihoods."""
    warnings.simplefilter("ignore")
    print(f"distinguishable SEM APIM, {N_DYADS:,} dyads, complete data (target: >= 2x lavaan)")
    df = simulate(N_DYADS, seed=3)
    kw = {"y": "y", "x": "x", "dyad": "dyad", "role": "role"}
    res = dl.apim(df, **kw)
    t_all = best_of(lambda: dl.apim(df, **kw))
    des = prepare(df, y="y", x=["x"], dyad="dyad", role="role")
    t_fit = best_of(lambda: sem_distinguishable(des, level=0.95))
    ll = res.fit["loglik"]
    print(f"  dyadlab dl.apim (checks, reshape, fit, role tests): {t_all:.3f} s")
    print(f"  dyadlab fit on the dyad-wide arrays (fit, SEs, role tests): {t_fit:.3f} s")
    print(f"  dyadlab loglik {ll:.6f}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sem.csv"
        df.to_csv(path, index=False)
        r = run_r(R_SCRIPT.replace("{path}", path.as_posix()))
    if r is None:
        print("  R: skipped (Rscript, lavaan not available)")
        return
    for tag, label in [("R_DEFAULT", "sem()"), ("R_ML", 'sem(missing = "ml")')]:
        t_r, ll_r = (float(v) for v in r[tag][0].split())
        print(
            f"  lavaan {label}: {t_r:.3f} s, loglik {ll_r:.6f} (|diff| {abs(ll - ll_r):.1e}); "
            f"ratio lavaan / dl.apim {t_r / t_all:.1f}x, lavaan / fit {t_r / t_fit:.1f}x"
        )


if __name__ == "__main__":
    main()
