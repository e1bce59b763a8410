"""A report section for a couple's physiology session: both partners' VPA, their
synchrony and concordance, as :class:`~dyadlab.report.html.Section` objects.

Examples
--------
>>> import dyadlab as dl
>>> from dyadlab.report.html import render_report
>>> a, _ = dl.physio.simulate_vpa(60, sampling_rate=200, rng=1)
>>> b, _ = dl.physio.simulate_vpa(60, sampling_rate=200, rng=2)
>>> res = {"woman": dl.physio.vpa(a, 200), "man": dl.physio.vpa(b, 200)}
>>> sections = physio_sections(res)
>>> [s.title for s in sections]
['Genital response (VPA)']
>>> "rejected" in render_report("Session 12", sections)
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from dyadlab.report.apa_table import apa_table
from dyadlab.report.html import Section, figure_from_matplotlib

__all__ = ["physio_sections"]


def physio_sections(
    vpa: Mapping[str, Any],
    *,
    synchrony: Any | None = None,
    concordance: Any | None = None,
    events: pd.DataFrame | None = None,
) -> list[Section]:
    """Sections for a session: VPA per partner (beats, rejections by reason, settings,
    both signals on one axis), then synchrony (WCC heat map, convention) and
    concordance (estimates, forest plot) when given."""
    import matplotlib.pyplot as plt

    from dyadlab.report.physio_plots import plot_partners

    rows = []
    for label, res in vpa.items():
        b = res.beats
        reasons = b["reason"].dropna().str.split(";").explode().value_counts()
        rows.append(
            {
                "partner": label,
                "beats": len(b),
                "rejected": int(b["rejected"].sum()),
                "percent rejected": round(100 * float(b["rejected"].mean()), 1),
                "reasons": ", ".join(f"{k} {v}" for k, v in reasons.items()),
                "mean amplitude (kept)": float(res.accepted["amplitude"].mean()),
            }
        )
    first = next(iter(vpa.values()))
    s = first.settings
    text = (
        f"Band-pass {s['band'][0]:g}–{s['band'][1]:g} Hz (Butterworth order {s['order']}, zero "
        f"phase); beats rejected for an inter-beat interval outside [{s['min_ibi']:g}, "
        f"{s['max_ibi']:g}] s, an amplitude more than {s['mad_threshold']:g} MADs from the "
        f"rolling median of {s['median_window']} beats, or a jump in the raw signal."
    )
    fig = plot_partners(vpa, events=events)
    sections = [
        Section(
            "Genital response (VPA)",
            text=text,
            tables=[("Beats per partner", pd.DataFrame(rows))],
            figures=[
                figure_from_matplotlib(fig, "Both partners", caption="Rejected beats shaded.")
            ],
        )
    ]
    plt.close(fig)
    if synchrony is not None:
        fig = synchrony.plot()
        sections.append(
            Section(
                "Synchrony (windowed cross-correlation)",
                text=f"Convention: {synchrony.convention}.",
                preformatted=synchrony.summary(),
                figures=[figure_from_matplotlib(fig, "WCC heat map")],
            )
        )
        plt.close(fig)
    if concordance is not None:
        fig = concordance.plot()
        sections.append(
            Section(
                "Subjective–genital concordance",
                # the estimates once, as an APA table (no text dump of the same numbers)
                apa=[apa_table(concordance)],
                tables=[("Pooled r by lag", concordance.lags)],
                figures=[figure_from_matplotlib(fig, "Concordance forest plot")],
            )
        )
        plt.close(fig)
    return sections
