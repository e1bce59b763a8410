"""Self-contained HTML reports that say how to reproduce them.

A report is a list of :class:`Section` objects (text, tables, figures) rendered into one
HTML file with every figure embedded as a PNG data URI, so the file can be mailed or
archived on its own. Each figure is also written beside the report as PNG and SVG when
``figures_dir`` is given. The footer states dyadlab's version, the SHA-256 of the data
file, the call, and the date, so an analysis can be reproduced.

Examples
--------
>>> import pandas as pd
>>> from dyadlab.report.html import Section, render_report
>>> html = render_report("Demo", [Section("Data", text="Two couples.")])
>>> "Two couples." in html
True
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html as _html
import io
import platform
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "Figure",
    "Provenance",
    "Section",
    "figure_from_matplotlib",
    "file_sha256",
    "render_report",
    "write_report",
]


@dataclass(frozen=True)
class Figure:
    """A rendered figure: PNG bytes (embedded) and optionally SVG text (written beside)."""

    title: str
    png: bytes
    svg: str | None = None
    caption: str = ""

    @property
    def slug(self) -> str:
        """A file-name-safe version of the title."""
        return re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-") or "figure"


@dataclass
class Section:
    """One part of a report: a title, optional text, tables and figures."""

    title: str
    text: str = ""
    tables: Sequence[tuple[str, pd.DataFrame]] = ()
    figures: Sequence[Figure] = ()
    preformatted: str = ""


@dataclass
class Provenance:
    """What is needed to reproduce a report."""

    call: str = ""
    data_sha256: str | None = None
    data_name: str | None = None
    created: str = field(
        default_factory=lambda: _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    )
    dyadlab_version: str = field(default_factory=lambda: _version())
    python_version: str = field(default_factory=platform.python_version)


def _version() -> str:
    from dyadlab import __version__

    return __version__


def file_sha256(path: str | Path) -> str:
    """Return the SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def figure_from_matplotlib(fig: Any, title: str, *, caption: str = "", dpi: int = 120) -> Figure:
    """Render a matplotlib figure (or the figure of an Axes) to PNG and SVG and close it."""
    import matplotlib.pyplot as plt

    fig = getattr(fig, "figure", fig) if not hasattr(fig, "savefig") else fig
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=dpi, bbox_inches="tight")
    svg = io.StringIO()
    fig.savefig(svg, format="svg", bbox_inches="tight")
    plt.close(fig)
    return Figure(title=title, png=png.getvalue(), svg=svg.getvalue(), caption=caption)


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#1d1d1f;line-height:1.45}
h1{font-size:1.7rem}h2{font-size:1.3rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;
margin-top:2rem}table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:.9rem}
th,td{padding:.25rem .6rem;border-bottom:1px solid #e5e5e5;text-align:right}
th:first-child,td:first-child{text-align:left}figure{margin:1rem 0}
img{max-width:100%;height:auto}figcaption{font-size:.85rem;color:#555}
pre{background:#f6f6f6;padding:.75rem;overflow-x:auto;font-size:.85rem}
footer{margin-top:3rem;font-size:.8rem;color:#555;border-top:1px solid #ddd;padding-top:.5rem}
"""


def _table_html(caption: str, frame: pd.DataFrame) -> str:
    body = frame.to_html(
        index=False,
        na_rep="—",
        float_format=lambda v: f"{v:.4g}",
        border=0,
        escape=True,
    )
    return f"<h3>{_html.escape(caption)}</h3>\n{body}" if caption else body


def _figure_html(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    caption = _html.escape(figure.caption or figure.title)
    alt = _html.escape(figure.title)
    return (
        f'<figure><img src="data:image/png;base64,{data}" alt="{alt}">'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def render_report(
    title: str, sections: Sequence[Section], *, provenance: Provenance | None = None
) -> str:
    """Render sections into one self-contained HTML document (a string)."""
    prov = provenance or Provenance()
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_html.escape(title)}</h1>",
    ]
    for section in sections:
        parts.append(f"<section><h2>{_html.escape(section.title)}</h2>")
        if section.text:
            for paragraph in section.text.split("\n\n"):
                parts.append(f"<p>{_html.escape(paragraph)}</p>")
        if section.preformatted:
            parts.append(f"<pre>{_html.escape(section.preformatted)}</pre>")
        for caption, frame in section.tables:
            parts.append(_table_html(caption, frame))
        for figure in section.figures:
            parts.append(_figure_html(figure))
        parts.append("</section>")
    data_line = ""
    if prov.data_sha256:
        name = f"{_html.escape(prov.data_name)}, " if prov.data_name else ""
        data_line = f"<br>Data: {name}SHA-256 <code>{prov.data_sha256}</code>"
    call_line = f"<br>Call: <code>{_html.escape(prov.call)}</code>" if prov.call else ""
    parts.append(
        f"<footer>Made with dyadlab {_html.escape(prov.dyadlab_version)} (Python "
        f"{_html.escape(prov.python_version)}) on {_html.escape(prov.created)}."
        f"{data_line}{call_line}</footer>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    path: str | Path,
    title: str,
    sections: Sequence[Section],
    *,
    provenance: Provenance | None = None,
    figures_dir: str | Path | None = None,
) -> Path:
    """Write the report to ``path``; figures also as PNG and SVG files in ``figures_dir``.

    Returns the path of the HTML file.
    """
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(title, sections, provenance=provenance), encoding="utf-8")
    if figures_dir is not None:
        folder = Path(figures_dir)
        folder.mkdir(parents=True, exist_ok=True)
        seen: dict[str, int] = {}
        for section in sections:
            for figure in section.figures:
                n = seen.get(figure.slug, 0)
                seen[figure.slug] = n + 1
                stem = figure.slug if n == 0 else f"{figure.slug}-{n + 1}"
                (folder / f"{stem}.png").write_bytes(figure.png)
                if figure.svg is not None:
                    (folder / f"{stem}.svg").write_text(figure.svg, encoding="utf-8")
    return out
