"""Two partners, one clock: align devices by shared sync events.

Each device's clock differs from the reference by an offset and runs a little fast or
slow (drift). Sync events seen by every device (a button press, a tone, a flash marked
on both lab machines or both phones) give pairs (device time, reference time); a least-
squares line ``t_ref = offset + (1 + drift) · t_device`` is fitted per device, every
time in its recording mapped onto the reference clock, and the residuals — the
misalignment that remains — are reported.

Events are matched by label, in order of occurrence: the k-th ``"sync"`` on one device
with the k-th ``"sync"`` on the other.

Examples
--------
>>> import numpy as np, pandas as pd
>>> from dyadlab.physio import Recording
>>> ev = lambda ts: pd.DataFrame({"time_s": ts, "label": ["sync"] * len(ts)})
>>> lab = Recording.from_arrays({"x": np.zeros(10)}, sampling_rates=1, events=ev([1., 5., 9.]))
>>> phone = Recording.from_arrays({"x": np.zeros(10)}, sampling_rates=1,
...                               events=ev([3., 7., 11.]))
>>> res = align({"lab": lab, "phone": phone}, reference="lab")
>>> res.fits[["device", "offset_s", "drift_ppm"]].round(6).values.tolist()
[['lab', 0.0, 0.0], ['phone', -2.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dyadlab.exceptions import DyadicDataError
from dyadlab.models._result import emit
from dyadlab.physio.recording import Recording

__all__ = ["Alignment", "align", "fit_clock", "shared_events"]


def shared_events(
    device: pd.DataFrame, reference: pd.DataFrame, labels: Sequence[str] | None = None
) -> pd.DataFrame:
    """Pairs of times of the same event: ``label, k, device_s, reference_s``.

    The k-th occurrence of a label on the device is paired with its k-th occurrence on
    the reference; extra occurrences on either side are left out.
    """
    rows = []
    wanted = set(labels) if labels is not None else None
    for label, dev in device.groupby("label", sort=False):
        if wanted is not None and label not in wanted:
            continue
        ref = reference.loc[reference["label"] == label]
        k = min(len(dev), len(ref))
        dt = np.sort(dev["time_s"].to_numpy(float))[:k]
        rt = np.sort(ref["time_s"].to_numpy(float))[:k]
        rows += [
            {"label": label, "k": i, "device_s": dt[i], "reference_s": rt[i]} for i in range(k)
        ]
    out = pd.DataFrame(rows, columns=["label", "k", "device_s", "reference_s"])
    return out.sort_values("reference_s", kind="stable").reset_index(drop=True)


def fit_clock(
    device_s: np.ndarray, reference_s: np.ndarray, *, drift: bool = True, name: str = "device"
) -> tuple[float, float, np.ndarray]:
    """Least-squares ``reference = offset + (1 + drift) · device``; returns offset,
    drift and the residuals (reference − fitted, seconds)."""
    d = np.asarray(device_s, dtype=float)
    r = np.asarray(reference_s, dtype=float)
    need = 2 if drift else 1
    if len(d) < need:
        found = f"{len(d)} sync event" + ("" if len(d) == 1 else "s")
        raise DyadicDataError(
            f"align(): {name!r} has {found} in common with the reference; offset "
            f"{'and drift need at least 2' if drift else 'needs at least 1'}. Mark more sync "
            "events on both devices (with the same label)"
            + (", or pass drift=False to fit an offset only." if drift and len(d) == 1 else ".")
        )
    if drift:
        if np.ptp(d) == 0:
            raise DyadicDataError(
                f"align(): the shared events of {name!r} all fall at one time, so drift "
                "cannot be estimated; use events spread over the session or drift=False."
            )
        slope, offset = np.polyfit(d, r, 1)
        drift_v = float(slope - 1.0)
    else:
        offset, drift_v = float(np.mean(r - d)), 0.0
    fitted = offset + (1.0 + drift_v) * d
    return float(offset), drift_v, r - fitted


@dataclass
class Alignment:
    """Recordings on one clock and the fit of every device.

    Attributes
    ----------
    recordings : dict of str to Recording
        Every recording with its times on the reference clock.
    fits : DataFrame
        One row per device: ``device, offset_s, drift_ppm, n_events,
        residual_rms_ms`` (√(SS / (n − parameters)) of the residuals), ``residual_max_ms``
        (both NaN when the fit has no degrees of freedom left: two events with drift,
        one without).
    events : DataFrame
        The shared events used: ``device, label, k, device_s, reference_s, residual_ms``.
    warnings : list of str
    """

    recordings: dict[str, Recording]
    fits: pd.DataFrame
    events: pd.DataFrame
    reference: str
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per device."""
        lines = [f"aligned to the clock of {self.reference!r}"]
        for f in self.fits.itertuples(index=False):
            lines.append(
                f"  {f.device}: offset {f.offset_s:+.4f} s, drift {f.drift_ppm:+.1f} ppm, "
                f"{f.n_events} events, residual RMS {f.residual_rms_ms:.2f} ms "
                f"(max {f.residual_max_ms:.2f} ms)"
            )
        return "\n".join(lines + [f"warning: {w}" for w in self.warnings])


def align(
    recordings: Mapping[str, Recording],
    *,
    reference: str | pd.DataFrame,
    labels: Sequence[str] | None = None,
    drift: bool = True,
) -> Alignment:
    """Put every recording on one clock from shared sync events.

    Parameters
    ----------
    recordings : mapping of name to Recording
        The devices (e.g. ``{"partner_a": …, "partner_b": …}``).
    reference : str or DataFrame
        The name of the recording whose clock is the reference, or a table of events
        (``time_s``, ``label``) on an external clock (a sync box, the lab's log).
    labels : sequence of str, optional
        Only these event labels are sync events (default: every label on both sides).
    drift : bool
        Fit a drift per device (needs ≥ 2 shared events) or an offset only (≥ 1).

    Raises
    ------
    DyadicDataError
        A device with too few shared events, or an unknown reference name.
    """
    if isinstance(reference, str):
        if reference not in recordings:
            raise DyadicDataError(
                f"align(): reference={reference!r} is not one of the recordings "
                f"({', '.join(recordings)})."
            )
        ref_events = recordings[reference].events
        ref_name = reference
    else:
        ref_events = reference
        ref_name = "external events"
    fits, used, out, warns = [], [], {}, []
    for name, rec in recordings.items():
        if name == ref_name:
            out[name] = rec
            fits.append(
                {
                    "device": name,
                    "offset_s": 0.0,
                    "drift_ppm": 0.0,
                    "n_events": len(rec.events),
                    "residual_rms_ms": 0.0,
                    "residual_max_ms": 0.0,
                }
            )
            continue
        pairs = shared_events(rec.events, ref_events, labels)
        offset, drift_v, resid = fit_clock(
            pairs["device_s"].to_numpy(), pairs["reference_s"].to_numpy(), drift=drift, name=name
        )
        dof = len(pairs) - (2 if drift else 1)
        if dof == 0:
            warns.append(
                f"{name!r}: {len(pairs)} shared event(s) fit the clock exactly, so the "
                "remaining misalignment cannot be estimated; add a sync event to check it."
            )
        rms = float(np.sqrt(np.sum(resid**2) / dof)) * 1000 if dof > 0 else float("nan")
        fits.append(
            {
                "device": name,
                "offset_s": offset,
                "drift_ppm": drift_v * 1e6,
                "n_events": len(pairs),
                "residual_rms_ms": rms,
                "residual_max_ms": float(np.max(np.abs(resid))) * 1000 if dof > 0 else float("nan"),
            }
        )
        used.append(pairs.assign(device=name, residual_ms=resid * 1000))
        out[name] = rec.shifted(offset, drift_v, clock=ref_name)
    warns = emit(warns)
    events = (
        pd.concat(used, ignore_index=True)[
            ["device", "label", "k", "device_s", "reference_s", "residual_ms"]
        ]
        if used
        else pd.DataFrame(
            columns=["device", "label", "k", "device_s", "reference_s", "residual_ms"]
        )
    )
    return Alignment(out, pd.DataFrame(fits), events, ref_name, warns)
