"""Data preparation of the truth and bias model: partners, centring, exclusions, designs.

:func:`prepare` turns individual-format data into the centred variables of West & Kenny
(2011) — ``jc`` (judgment), ``tc_partner`` (the partner's truth: truth force) and
``tc_own`` (the judge's truth: assumed similarity), all minus the mean of truth — leaves
out rows that cannot enter the fit (counting them, with reasons), and orders the rows by
dyad, time and member as the engine needs. :func:`design` builds the fixed-effect and
random-effect matrices and names every column.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"couple": [1, 1, 2, 2], "g": ["w", "h", "w", "h"],
...                    "judg": [3.0, 4.0, 5.0, 4.0], "self": [4.0, 2.0, 6.0, 4.0]})
>>> prep = prepare(df, judgment="judg", truth="self", dyad="couple", person=None,
...                time=None, role="g", moderators=[], func="truth_bias")
>>> prep.truth_mean, prep.frame["tc_partner"].tolist()
(4.0, [0.0, -2.0, 2.0, 0.0])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from dyadlab.data.model_frame import model_frame

__all__ = ["Prepared", "TruthBiasMatrices", "design", "prepare"]


@dataclass
class Prepared:
    """The analysis rows and what was left out."""

    frame: pd.DataFrame  # jc, tc_partner, tc_own, moderators, dyad_code, member, time
    truth_mean: float
    truth_sd: float
    roles: list[str]
    n_excluded: int
    excluded: dict[str, int] = field(default_factory=dict)
    no_partner_truth_dyads: list[Any] = field(default_factory=list)
    single_person_dyads: list[Any] = field(default_factory=list)


@dataclass
class TruthBiasMatrices:
    """Fixed and random design with the names of the fixed columns."""

    X: np.ndarray
    Z: np.ndarray
    y: np.ndarray
    terms: list[tuple[str, str | None, str | None]]  # (effect, predictor, role)
    z_scale: np.ndarray  # Z column c was divided by z_scale[c]


def prepare(
    data: pd.DataFrame,
    *,
    judgment: str,
    truth: str,
    dyad: str,
    person: str | None,
    time: str | None,
    role: str | None,
    moderators: list[str],
    func: str,
) -> Prepared:
    """Centre judgment and truths on the mean of truth; leave out incomplete rows."""
    truth_values = data[truth].to_numpy(dtype=float)
    finite = truth_values[np.isfinite(truth_values)]
    mean = float(finite.mean()) if len(finite) else float("nan")
    sd = float(finite.std(ddof=1)) if len(finite) > 1 else 0.0
    # roles (without them, person ids) ordered by their text: "10" before "9"
    mf = model_frame(data, dyad=dyad, person=person, role=role, time=time, func=func, order="text")
    has_partner = mf.partner >= 0
    tp = mf.partner_values(truth)
    frame = pd.DataFrame(
        {
            "jc": data[judgment].to_numpy(dtype=float) - mean,
            "tc_partner": tp - mean,
            "tc_own": truth_values - mean,
        },
        index=data.index,
    )
    for m in moderators:
        frame[m] = data[m].to_numpy(dtype=float)
    frame["_dyad"] = data[dyad].to_numpy()
    frame["_time"] = data[time].to_numpy() if time is not None else 0
    frame["_member"] = mf.member
    reasons = {
        "no partner row": int((~has_partner).sum()),
        "partner's truth missing": int((has_partner & np.isnan(tp)).sum()),
        "own truth missing": int(np.isnan(truth_values).sum()),
        "judgment missing": int(frame["jc"].isna().sum()),
    }
    for m in moderators:
        reasons[f"{m} missing"] = int(frame[m].isna().sum())
    keep = frame[["jc", "tc_partner", "tc_own", *moderators]].notna().all(axis=1).to_numpy()
    # persons who never report the truth (so their partner's judgments have no truth),
    # and dyads with only one person
    person_key = pd.MultiIndex.from_arrays([frame["_dyad"].to_numpy(), frame["_member"].to_numpy()])
    reports = pd.Series(~np.isnan(truth_values), index=person_key).groupby(level=[0, 1]).any()
    silent = reports.index[~reports.to_numpy()].get_level_values(0)
    members = reports.groupby(level=0, sort=False).size()
    single = members.index[members.to_numpy() < 2].tolist()
    no_tp = [d for d in pd.unique(silent) if d not in set(single)]
    out = frame.loc[keep].copy()
    codes, _ = pd.factorize(out["_dyad"], sort=False)
    out["_dyad_code"] = codes
    out = out.sort_values(["_dyad_code", "_time", "_member"], kind="stable")
    return Prepared(
        frame=out,
        truth_mean=mean,
        truth_sd=sd,
        roles=[str(r) for r in mf.roles],
        n_excluded=int((~keep).sum()),
        excluded={k: v for k, v in reasons.items() if v},
        no_partner_truth_dyads=no_tp,
        single_person_dyads=single,
    )


def design(
    prep: Prepared,
    *,
    truth: str,
    judgment: str,
    moderators: list[str],
    similarity: bool,
    distinguishable: bool,
) -> TruthBiasMatrices:
    """Fixed effects per role (or pooled) with moderator interactions; random person effects."""
    f = prep.frame
    n = len(f)
    tcp = f["tc_partner"].to_numpy()
    tco = f["tc_own"].to_numpy()
    member = f["_member"].to_numpy()
    preds: list[tuple[str, str, np.ndarray]] = [
        ("directional_bias", judgment, np.ones(n)),
        ("truth", f"{truth}_partner", tcp),
    ]
    if similarity:
        preds.append(("assumed_similarity", truth, tco))
    base = list(preds)
    for m in moderators:
        v = f[m].to_numpy()
        preds += [
            (f"{eff}:{m}", m if eff == "directional_bias" else pred, col * v)
            for eff, pred, col in base
        ]
    cols: list[np.ndarray] = []
    terms: list[tuple[str, str | None, str | None]] = []
    for eff, pred, col in preds:
        if distinguishable:
            for k, r in enumerate(prep.roles):
                cols.append(col * (member == k))
                terms.append((eff, pred, r))
        else:
            cols.append(col)
            terms.append((eff, pred, None))
    m0 = (member == 0).astype(float)
    m1 = 1.0 - m0
    scale = prep.truth_sd if prep.truth_sd > 0 else 1.0
    zcols = [m0, m1, m0 * tcp / scale, m1 * tcp / scale]
    zscale = [1.0, 1.0, scale, scale]
    if similarity:
        zcols += [m0 * tco / scale, m1 * tco / scale]
        zscale += [scale, scale]
    return TruthBiasMatrices(
        X=np.column_stack(cols),
        Z=np.column_stack(zcols),
        y=f["jc"].to_numpy(),
        terms=terms,
        z_scale=np.array(zscale),
    )
