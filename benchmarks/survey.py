"""Benchmark: a national panel — domain means for 4 groups and a 6-coefficient GLM.

1,000,000 respondents in 200 strata × 10 PSUs (PSU ids unique), weights varying by
stratum and respondent, a 4-level group (relationship type) and an outcome with a PSU
random effect. Timed (wall clock, after a warm-up of the imports on a small design):

1. the design: :func:`dyadlab.survey.design` (weights, strata, clusters);
2. domain means: ``d.mean("y", by="group")`` — 4 groups, their joint covariance;
3. a design-based Gaussian GLM ``y ~ x1 + … + x5`` (6 coefficients, sandwich SEs).

Target (issue 13): the three together ≤ 2 s and ≥ 20× faster than R ``survey``
(``svydesign`` + ``svyby(~y, ~group, des, svymean)`` + ``svyglm``), which is timed in
the same run inside R (reading the CSV is not timed) and whose SEs are compared.

Run: ``python benchmarks/survey.py`` (``--no-r`` skips R; ``--n`` changes the size).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from _rscript import run_r_on_frame

import dyadlab as dl

R_SCRIPT = """
suppressMessages(library(survey))
d <- read.csv("{path}")
t0 <- proc.time()[["elapsed"]]
des <- svydesign(id = ~psu, strata = ~stratum, weights = ~w, data = d)
t1 <- proc.time()[["elapsed"]]
m <- svyby(~y, ~group, des, svymean)
t2 <- proc.time()[["elapsed"]]
g <- svyglm(y ~ x1 + x2 + x3 + x4 + x5, des)
t3 <- proc.time()[["elapsed"]]
cat(t1 - t0, t2 - t1, t3 - t2, SE(m), sqrt(diag(vcov(g))), "\\n")
"""


def simulate(n: int, strata: int, psus: int, seed: int = 2026) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    psu = rng.integers(0, strata * psus, n)
    psu[: strata * psus] = np.arange(strata * psus)
    stratum = psu // psus
    x = rng.normal(size=(n, 5))
    group = rng.choice(np.array(["man-woman", "man-man", "woman-woman", "single"]), n)
    y = (
        1.0
        + x @ np.array([0.5, -0.2, 0.1, 0.0, 0.3])
        + rng.normal(0, 0.5, strata * psus)[psu]
        + rng.normal(size=n)
    )
    w = rng.uniform(50, 150, strata)[stratum] * rng.uniform(0.8, 1.25, n)
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(1, 6)])
    frame.insert(0, "stratum", stratum + 1)
    frame.insert(1, "psu", psu + 1)
    frame.insert(2, "w", w)
    frame["group"] = group
    frame["y"] = y
    return frame


def run(df: pd.DataFrame) -> tuple[list[float], np.ndarray]:
    t0 = time.perf_counter()
    d = dl.survey.design(df, weights="w", strata="stratum", cluster="psu")
    t1 = time.perf_counter()
    means = d.mean("y", by="group")
    t2 = time.perf_counter()
    fit = d.glm("y", ["x1", "x2", "x3", "x4", "x5"])
    t3 = time.perf_counter()
    ses = np.concatenate([means.estimates["se"].to_numpy(), fit.estimates["se"].to_numpy()])
    return [t1 - t0, t2 - t1, t3 - t2], ses


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--strata", type=int, default=200)
    parser.add_argument("--psus", type=int, default=10)
    parser.add_argument("--no-r", action="store_true")
    args = parser.parse_args()
    df = simulate(args.n, args.strata, args.psus)
    run(simulate(5000, 20, 5, seed=1))  # warm-up: imports
    times, ses = run(df)
    total = sum(times)
    print(
        f"{args.n:,} respondents, {args.strata} strata × {args.psus} PSUs: "
        "domain means (4 groups) + 6-coefficient GLM"
    )
    print(
        f"  dyadlab: design {times[0]:.3f} s, means {times[1]:.3f} s, glm {times[2]:.3f} s, "
        f"total {total:.3f} s (target ≤ 2 s)"
    )
    if args.no_r:
        return
    r = run_r_on_frame(R_SCRIPT, df)
    if r is None:
        print("  R: not run (Rscript missing or failed)")
        return
    r_total = sum(r[:3])
    rel = np.max(np.abs(ses - np.array(r[3:])) / np.array(r[3:]))
    print(
        f"  R survey: design {r[0]:.2f} s, svyby {r[1]:.2f} s, svyglm {r[2]:.2f} s, "
        f"total {r_total:.2f} s"
    )
    print(f"  ratio R / dyadlab: {r_total / total:.1f}× (target ≥ 20×)")
    print(f"  largest relative SE difference from R: {rel:.1e}")


if __name__ == "__main__":
    main()
