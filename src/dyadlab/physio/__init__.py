"""Both partners' arousal: genital psychophysiology, ratings, concordance and synchrony.

Read recordings (CSV/TSV, EDF/BDF, XDF, BIOPAC ``.acq``) into one
:class:`Recording`, compute vaginal pulse amplitude beat by beat with quality control
and a replayable edit log, calibrate penile strain gauges, put subjective ratings on
the analysis grid, align two partners' devices on one clock, and analyse concordance
(Chivers et al. 2010) and synchrony (windowed lagged cross-correlation, Boker et al.
2002) with surrogate tests that respect couples' composition.

Install with ``pip install 'dyadlab[physio]'``.

Examples
--------
>>> import dyadlab as dl
>>> {"vpa", "synchrony", "concordance", "align"} <= set(dl.physio.__all__)
True
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY: dict[str, str] = {
    "Alignment": "dyadlab.physio.align",
    "BeatEdit": "dyadlab.physio.edits",
    "align": "dyadlab.physio.align",
    "EditLog": "dyadlab.physio.edits",
    "ConcordanceResult": "dyadlab.physio._concordance",
    "GaugeCalibration": "dyadlab.physio.gauge",
    "concordance": "dyadlab.physio._concordance",
    "concordance_apim": "dyadlab.physio._concordance",
    "concordance_slope": "dyadlab.physio._concordance_slope",
    "simulate_concordance": "dyadlab.physio._concordance",
    "Recording": "dyadlab.physio.recording",
    "calibrate_gauge": "dyadlab.physio.gauge",
    "circumference_change": "dyadlab.physio.gauge",
    "SurrogateResult": "dyadlab.physio._surrogates",
    "SynchronyResult": "dyadlab.physio._synchrony",
    "iaaft": "dyadlab.physio._surrogates",
    "pseudo_pair_test": "dyadlab.physio._surrogates",
    "surrogate_test": "dyadlab.physio._surrogates",
    "VPAResult": "dyadlab.physio._vpa",
    "epoch_means": "dyadlab.physio.autonomic",
    "epoch_vpa": "dyadlab.physio.epochs",
    "heart_rate": "dyadlab.physio.autonomic",
    "skin_conductance": "dyadlab.physio.autonomic",
    "vbv": "dyadlab.physio.autonomic",
    "inject_artifacts": "dyadlab.physio.simulate",
    "simulate_rating": "dyadlab.physio.simulate",
    "simulate_vpa": "dyadlab.physio.simulate",
    "standardize": "dyadlab.physio.epochs",
    "synchrony": "dyadlab.physio._synchrony",
    "thermal_roi": "dyadlab.physio.thermal",
    "vpa": "dyadlab.physio._vpa",
    "bin_ratings": "dyadlab.physio.grid",
    "read_acq": "dyadlab.physio.readers",
    "read_csv": "dyadlab.physio.readers",
    "read_edf": "dyadlab.physio.readers",
    "read_ratings": "dyadlab.physio.ratings",
    "read_recording": "dyadlab.physio.readers",
    "read_xdf": "dyadlab.physio.readers",
    "resample": "dyadlab.physio.grid",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dyadlab.physio' has no attribute {name!r}")
    loaded = importlib.import_module(module)
    value = getattr(loaded, name)
    globals()[name] = value
    # importing dyadlab.physio.align binds that module to the name "align" here, which
    # would hide the function align(); the public name is the function
    short = module.rpartition(".")[2]
    if _LAZY.get(short) == module:
        globals()[short] = getattr(loaded, short)
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
