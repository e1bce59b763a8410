"""Benchmark: the APIM, dyadlab against R, on the same data in one run.

Targets (issue 3):

- k = partner / actor with 5,000 bootstrap resamples at 500 dyads in at most 1 s
  (dyadlab solves all resamples at once from per-dyad cross-product matrices). R:
  ``lavaan::sem(..., se = "bootstrap", bootstrap = 1000)`` with k defined by ``:=``, as
  the issue states (lavaan refits each resample); both times are printed, and R's
  time scaled linearly to 5,000 resamples.
- indistinguishable APIM by MLM at 10,000 dyads at least 5x faster than
  ``nlme::gls(y ~ x + x_partner, correlation = corCompSymm(form = ~1 | dyad),
  method = "REML")``.

The data are simulated here, written to a temporary CSV and read by both. The R parts
are skipped when Rscript (or lavaan / nlme) is not installed.
Run: ``python benchmarks/apim.py``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import dyadlab as dl

N_BOOT_DYADS = 500
N_BOOT = 5_000
R_BOOT = 1_000
N_MLM_DYADS = 10_000


def simulate(n: int, seed: int) -> pd.DataFrame:
    """Individual-format APIM data: actor 0.4/0.5, partner 0.2/0.3, r_x = r_e = 0.3."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    x = np.column_stack([z[:, 0], 0.3 * z[:, 0] + np.sqrt(1 - 0.09) * z[:, 1]])
    u = rng.normal(size=(n, 2))
    e = np.column_stack([u[:, 0], 0.3 * u[:, 0] + np.sqrt(1 - 0.09) * u[:, 1]])
    y = np.column_stack([0.4 * x[:, 0] + 0.2 * x[:, 1], 0.5 * x[:, 1] + 0.3 * x[:, 0]]) + e
    return pd.DataFrame(
        {
            "dyad": np.repeat(np.arange(1, n + 1), 2),
            "role": np.tile([1, 2], n),
            "x": x.ravel().round(5),
            "y": y.ravel().round(5),
        }
    )


R_BOOT_SCRIPT = r"""
suppressPackageStartupMessages(library(lavaan))
d <- read.csv("{path}")
w <- reshape(d, idvar = "dyad", timevar = "role", direction = "wide", sep = "_")
m <- 'y_1 ~ a1*x_1 + p1*x_2
      y_2 ~ a2*x_2 + p2*x_1
      y_1 ~~ y_2
      k1 := p1/a1
      k2 := p2/a2'
set.seed(1)
t <- system.time(fit <- sem(m, data = w, meanstructure = TRUE, se = "bootstrap",
                            bootstrap = {b}))[["elapsed"]]
pe <- parameterEstimates(fit, boot.ci.type = "perc")
k <- pe[pe$op == ":=", ]
cat(sprintf("R_TIME %.4f\n", t))
cat(sprintf("R_K %s %.4f %.4f %.4f\n", k$lhs, k$est, k$ci.lower, k$ci.upper), sep = "")
"""

R_GLS_SCRIPT = r"""
suppressPackageStartupMessages(library(nlme))
d <- read.csv("{path}")
d$x_partner <- ave(d$x, d$dyad, FUN = rev)
t <- system.time(fit <- gls(y ~ x + x_partner, data = d,
                            correlation = corCompSymm(form = ~1 | dyad),
                            method = "REML"))[["elapsed"]]
cat(sprintf("R_TIME %.4f\n", t))
cat(sprintf("R_COEF %.6f %.6f %.6f\n", coef(fit)[1], coef(fit)[2], coef(fit)[3]))
"""


def run_r(script: str) -> dict[str, list[str]] | None:
    """Run an R script; return its tagged output lines, or None without Rscript."""
    if shutil.which("Rscript") is None:
        return None
    proc = subprocess.run(
        ["Rscript", "-e", script], capture_output=True, text=True, check=False, timeout=1800
    )
    if proc.returncode != 0:
        print(f"  R failed: {proc.stderr.strip().splitlines()[-1:]}")
        return None
    out: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        tag, _, rest = line.partition(" ")
        out.setdefault(tag, []).append(rest)
    return out


def bench_k(tmp: Path) -> None:
    print(f"k with {N_BOOT:,} bootstrap resamples, {N_BOOT_DYADS} dyads (target <= 1 s)")
    df = simulate(N_BOOT_DYADS, seed=1)
    path = tmp / "k.csv"
    df.to_csv(path, index=False)
    dl.apim(df, y="y", x="x", dyad="dyad", role="role", bootstrap=100, rng=0)  # warm up
    t0 = time.perf_counter()
    res = dl.apim(df, y="y", x="x", dyad="dyad", role="role", bootstrap=N_BOOT, rng=1)
    t_py = time.perf_counter() - t0
    print(f"  dyadlab: {t_py:.3f} s (whole fit, role tests and k with percentile + BCa CIs)")
    for k in res.extra["k"]:
        print(
            f"    k[{k['role']}] = {k['estimate']:.4f}, percentile CI "
            f"[{k['ci_low']:.4f}, {k['ci_high']:.4f}], "
            f"BCa [{k['bca_low']:.4f}, {k['bca_high']:.4f}]"
        )
    r = run_r(R_BOOT_SCRIPT.format(path=path.as_posix(), b=R_BOOT))
    if r is None:
        print("  R: skipped (Rscript, lavaan not available)")
        return
    t_r = float(r["R_TIME"][0])
    t_r5 = t_r * N_BOOT / R_BOOT
    print(
        f"  R lavaan se='bootstrap', {R_BOOT:,} resamples: {t_r:.3f} s "
        f"(~{t_r5:.1f} s for {N_BOOT:,})"
    )
    for line in r.get("R_K", []):
        print(f"    R {line}")
    print(
        f"  ratio R({R_BOOT:,}) / dyadlab({N_BOOT:,}): {t_r / t_py:.1f}x; "
        f"per resample: {t_r5 / t_py:.0f}x"
    )


def bench_mlm(tmp: Path) -> None:
    print(f"indistinguishable MLM, {N_MLM_DYADS:,} dyads (target >= 5x faster than nlme::gls)")
    df = simulate(N_MLM_DYADS, seed=2).drop(columns="role")
    path = tmp / "mlm.csv"
    df.to_csv(path, index=False)
    dl.apim(df.iloc[:2000], y="y", x="x", dyad="dyad")  # warm up
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = dl.apim(df, y="y", x="x", dyad="dyad")
        times.append(time.perf_counter() - t0)
    t_py = min(times)
    coef = res.estimates["estimate"].to_numpy()
    print(f"  dyadlab: {t_py:.3f} s (best of 3); coefficients {np.round(coef, 6)}")
    r = run_r(R_GLS_SCRIPT.format(path=path.as_posix()))
    if r is None:
        print("  R: skipped (Rscript, nlme not available)")
        return
    t_r = float(r["R_TIME"][0])
    print(f"  R nlme::gls: {t_r:.3f} s; coefficients {r['R_COEF'][0]}")
    print(f"  ratio R / dyadlab: {t_r / t_py:.1f}x")


def main() -> None:
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        bench_k(Path(tmp))
        print()
        bench_mlm(Path(tmp))


if __name__ == "__main__":
    main()
