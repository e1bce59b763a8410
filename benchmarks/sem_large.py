"""Benchmark: the distinguishable SEM APIM at 100,000 dyads, dyadlab against lavaan.

Target (issue 21): with complete data, at least 2x faster than ``lavaan::sem`` with the
same log-likelihood, end to end as a user calls it. dyadlab fits from the sample
moments when no value is missing (FIML from the rows only with missing values), as
lavaan does.

Timed in one run on the same simulated data (written to a CSV read by both):

- lavaan: ``sem(model, data = wide, meanstructure = TRUE)`` (its default, listwise: the
  fastest call that gives this log-likelihood) and with ``missing = "ml"`` (the call
  dyadlab reproduces; tests/reference/apim.R); the reshape to dyad-wide data is not
  timed. Best of five, wall and CPU (user + system) time.
- dyadlab: ``dl.apim(...)`` from individual-format data (data checks, reshape, the fit
  with standard errors and the three likelihood-ratio and Wald role tests), and the
  fit step alone on the dyad-wide arrays. Best of five, wall and CPU time.

The ratios are against the fastest lavaan call whose log-likelihood equals dyadlab's
(|diff| < 1e-4); CPU-time ratios are printed too because the machine may be shared.
The R part is skipped without Rscript and lavaan. Run: ``python benchmarks/sem_large.py``
(``--repeats 15`` for a steadier best-of on a shared machine; ``--help``).
"""

from __future__ import annotations

import argparse
import os
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
REPEATS = 5

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lavaan))
d <- read.csv("{path}")
w <- reshape(d, idvar = "dyad", timevar = "role", direction = "wide", sep = "_")
m <- 'y_1 ~ x_1 + x_2
      y_2 ~ x_2 + x_1
      y_1 ~~ y_2'
best <- function(f) {
  t <- sapply(1:{k}, function(i) {
    s <- system.time(f())
    c(s[["elapsed"]], s[["user.self"]] + s[["sys.self"]])
  })
  c(min(t[1, ]), min(t[2, ]))
}
f1 <- sem(m, data = w, meanstructure = TRUE)
f2 <- sem(m, data = w, meanstructure = TRUE, missing = "ml")
t1 <- best(function() sem(m, data = w, meanstructure = TRUE))
t2 <- best(function() sem(m, data = w, meanstructure = TRUE, missing = "ml"))
cat(sprintf("R_DEFAULT %.4f %.4f %.6f\n", t1[1], t1[2], fitMeasures(f1, "logl")))
cat(sprintf("R_ML %.4f %.4f %.6f\n", t2[1], t2[2], fitMeasures(f2, "logl")))
"""


def best_of(f: Callable[[], object], k: int = REPEATS) -> tuple[float, float]:
    """Smallest wall time and smallest CPU time of ``k`` calls of ``f``."""
    wall, cpu = [], []
    for _ in range(k):
        t0, c0 = time.perf_counter(), time.process_time()
        f()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(wall), min(cpu)


def main() -> None:
    """Time both and print the ratios and the log-likelihoods."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dyads", type=int, default=N_DYADS, help="number of dyads (100,000)")
    ap.add_argument(
        "--repeats", type=int, default=REPEATS, help="best of this many calls, each side (5)"
    )
    args = ap.parse_args()
    n_dyads, repeats = args.dyads, args.repeats
    warnings.simplefilter("ignore")
    print(f"distinguishable SEM APIM, {n_dyads:,} dyads, complete data (target: >= 2x lavaan)")
    print(f"  load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    df = simulate(n_dyads, seed=3)
    kw = {"y": "y", "x": "x", "dyad": "dyad", "role": "role"}
    res = dl.apim(df, **kw)
    t_all, c_all = best_of(lambda: dl.apim(df, **kw), repeats)
    des = prepare(df, y="y", x=["x"], dyad="dyad", role="role")
    t_fit, c_fit = best_of(lambda: sem_distinguishable(des, level=0.95), repeats)
    ll = res.fit["loglik"]
    print(
        f"  dyadlab dl.apim (checks, reshape, fit, role tests): {t_all:.3f} s (CPU {c_all:.3f} s)"
    )
    print(
        f"  dyadlab fit on the dyad-wide arrays (fit, SEs, role tests): {t_fit:.3f} s "
        f"(CPU {c_fit:.3f} s)"
    )
    print(f"  dyadlab loglik {ll:.6f}")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sem.csv"
        df.to_csv(path, index=False)
        script = R_SCRIPT.replace("{path}", path.as_posix()).replace("{k}", str(repeats))
        r = run_r(script)
    if r is None:
        print("  R: skipped (Rscript, lavaan not available)")
        return
    same = []
    for tag, label in [("R_DEFAULT", "sem()"), ("R_ML", 'sem(missing = "ml")')]:
        t_r, c_r, ll_r = (float(v) for v in r[tag][0].split())
        print(
            f"  lavaan {label}: {t_r:.3f} s (CPU {c_r:.3f} s), loglik {ll_r:.6f} "
            f"(|diff| {abs(ll - ll_r):.1e}); ratio lavaan / dl.apim {t_r / t_all:.1f}x "
            f"(CPU {c_r / c_all:.1f}x), lavaan / fit {t_r / t_fit:.1f}x"
        )
        if abs(ll - ll_r) < 1e-4:
            same.append((t_r, c_r, label))
    if same:
        t_r, c_r, label = min(same)
        print(
            f"  against the fastest lavaan call with the same loglik, {label}: "
            f"dl.apim is {t_r / t_all:.1f}x faster (wall), {c_r / c_all:.1f}x (CPU)"
        )
    print(f"  load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
