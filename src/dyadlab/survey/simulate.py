"""``dl.survey.simulate_panel``: a representative panel with a known truth.

A stratified two-stage sample (strata × PSUs × respondents) of a population where
people in man-woman, man-man and woman-woman relationships and singles differ in
loneliness and depression; same-sex couples are oversampled and weighted down, PSUs
share a random effect (so the design effect exceeds 1), and some answers are missing.

Examples
--------
>>> df = simulate_panel(300, rng=1)
>>> sorted(df.columns)[:4]
['age', 'depression', 'id', 'loneliness']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dyadlab.survey._relationship import relationship_type

__all__ = ["POPULATION_MEANS", "simulate_panel"]

#: population means (loneliness, depression) per relationship type
POPULATION_MEANS = {
    "man-woman": (3.6, 4.2),
    "man-man": (4.2, 5.0),
    "woman-woman": (4.0, 4.9),
    "single": (5.0, 5.6),
    "other/unknown": (4.8, 5.8),
}


def simulate_panel(
    n: int = 2000,
    *,
    n_strata: int = 20,
    psu_per_stratum: int = 4,
    missing: float = 0.03,
    rng: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Simulate a weighted, stratified, clustered panel of ``n`` respondents.

    Parameters
    ----------
    n : int
        Respondents.
    n_strata, psu_per_stratum : int
        Design: PSUs (ids unique across strata) are drawn within strata.
    missing : float
        Share of loneliness and depression answers that are missing.
    rng : int or Generator, optional
        Seed or generator.

    Returns
    -------
    DataFrame
        ``id, stratum, psu, weight, sex, partner_sex, partnered, relationship, age,
        loneliness, depression, lonely_often`` (loneliness ≥ 6, 0/1).
    """
    gen = np.random.default_rng(rng)
    n_psu = n_strata * psu_per_stratum
    psu = gen.integers(0, n_psu, size=n)
    psu[:n_psu] = np.arange(n_psu)  # every PSU has a respondent
    stratum = psu // psu_per_stratum
    # relationship: same-sex couples oversampled (probability 3× their population share)
    types = np.array(["man-woman", "man-man", "woman-woman", "single", "other/unknown"])
    sample_p = np.array([0.50, 0.10, 0.10, 0.27, 0.03])
    pop_p = np.array([0.60, 0.03, 0.03, 0.32, 0.02])
    kind = gen.choice(len(types), size=n, p=sample_p)
    weight = (pop_p / sample_p)[kind] * gen.uniform(50, 150, size=n_strata)[stratum]
    weight *= gen.uniform(0.8, 1.25, size=n)
    sex = np.where(gen.random(n) < 0.5, "man", "woman")
    partner = np.where(sex == "man", "woman", "man").astype(object)
    sex = sex.astype(object)
    sex[kind == 1] = "man"
    partner[kind == 1] = "man"
    sex[kind == 2] = "woman"
    partner[kind == 2] = "woman"
    partner[kind == 3] = None
    partner[kind == 4] = "non-binary"
    frame = pd.DataFrame({"sex": sex, "partner_sex": partner, "partnered": kind != 3})
    rel = relationship_type(frame, sex="sex", partner_sex="partner_sex", partnered="partnered")
    means = np.array([POPULATION_MEANS[t] for t in types])[kind]
    psu_effect = gen.normal(0, 0.5, size=(n_psu, 2))[psu]
    outcome = means + psu_effect + gen.normal(0, 1.5, size=(n, 2))
    outcome = np.clip(outcome, 0, 10)
    for j in range(2):
        outcome[gen.random(n) < missing, j] = np.nan
    lonely_often = np.where(np.isnan(outcome[:, 0]), np.nan, (outcome[:, 0] >= 6).astype(float))
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "stratum": stratum + 1,
            "psu": psu + 1,
            "weight": weight,
            "sex": frame["sex"],
            "partner_sex": frame["partner_sex"],
            "partnered": frame["partnered"],
            "relationship": rel.astype(str),
            "age": gen.integers(18, 80, size=n),
            "loneliness": outcome[:, 0],
            "depression": outcome[:, 1],
            "lonely_often": lonely_often,
        }
    )
