"""Self-contained HTML reports that say how to reproduce them.

A report is a list of :class:`Section` objects (text, tables, figures) rendered into one
HTML file with every figure embedded as a PNG data URI, so the file can be mailed or
archived on its own. Each figure is also written beside the report as PNG and SVG when
``figures_dir`` is given (PNG at 300 dpi, SVG and PDF). The footer states dyadlab's
version, the SHA-256 of the data file, the call, and the date, so an analysis can be
reproduced.

The page reads on a phone: a table of contents, every table in a scroll wrapper (the
table scrolls, not the page), and every figure wide enough that its smallest text is
at least 10 px (a narrow screen scrolls the figure sideways instead of shrinking its
labels). Each model's section holds its APA table (one presentation of each number),
a methods paragraph and its references; the references are gathered at the end.
:func:`write_report` also writes Word (``format="docx"``), LaTeX (``"tex"``) and
Markdown (``"md"``), see :mod:`dyadlab.report.formats`.

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
    "REPORT_FORMATS",
    "Figure",
    "Provenance",
    "Section",
    "figure_from_matplotlib",
    "file_sha256",
    "png_size",
    "references_of",
    "render_report",
    "report_format",
    "tidy_frame",
    "write_report",
]


@dataclass(frozen=True)
class Figure:
    """A rendered figure: PNG bytes (embedded) and optionally SVG text (written beside)."""

    title: str
    png: bytes
    svg: str | None = None
    caption: str = ""
    #: the smallest text in the figure, in pixels of ``png`` (None: unknown)
    min_font_px: float | None = None
    #: the same figure for print: PNG at 300 dpi and PDF
    png_print: bytes | None = None
    pdf: bytes | None = None

    @property
    def size_px(self) -> tuple[int, int]:
        """Width and height of ``png`` in pixels (read from its header)."""
        return png_size(self.png)

    def min_width_px(self, min_text_px: float = 10.0) -> int | None:
        """The narrowest display width at which the smallest text is ``min_text_px``."""
        if not self.min_font_px:
            return None
        width, _ = self.size_px
        return int(-(-width * min_text_px // self.min_font_px))

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
    #: publication tables (:class:`~dyadlab.report.apa_table.ApaTable`), shown first
    apa: Sequence[Any] = ()
    #: a methods paragraph a researcher can adapt, and the works it cites (APA style)
    methods: str = ""
    references: Sequence[str] = ()

    @property
    def anchor(self) -> str:
        """The section's id in the HTML page (for the table of contents)."""
        return "s-" + (re.sub(r"[^a-z0-9]+", "-", self.title.lower()).strip("-") or "section")


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


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG image, from its IHDR header."""
    if not png.startswith(b"\x89PNG") or len(png) < 24:
        return 0, 0
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def _min_font_pt(fig: Any) -> float | None:
    """The smallest text drawn: titles, annotations, legends, and the axes' tick labels
    and axis labels only where the axes are shown."""
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += [*ax.texts, ax.title]
        legend = ax.get_legend()
        if legend is not None:
            texts += list(legend.get_texts())
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                if axis.get_visible():
                    texts += [axis.label, *axis.get_ticklabels()]
    sizes = [
        float(t.get_fontsize())
        for t in texts
        if hasattr(t, "get_fontsize") and t.get_visible() and t.get_text().strip()
    ]
    return min(sizes) if sizes else None


def figure_from_matplotlib(
    fig: Any, title: str, *, caption: str = "", dpi: int = 120, print_dpi: int = 300
) -> Figure:
    """Render a matplotlib figure (or the figure of an Axes) and close it.

    PNG at ``dpi`` (embedded in the HTML page), SVG, PDF and PNG at ``print_dpi``
    (written beside the report; the Word report embeds the print PNG). The smallest
    text's size is kept so the page can keep it readable on a phone.
    """
    import matplotlib.pyplot as plt

    fig = getattr(fig, "figure", fig) if not hasattr(fig, "savefig") else fig
    outputs: dict[str, Any] = {}
    for key, fmt, res in (
        ("png", "png", dpi),
        ("png_print", "png", print_dpi),
        ("pdf", "pdf", None),
    ):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, dpi=res or "figure", bbox_inches="tight")
        outputs[key] = buffer.getvalue()
    svg = io.StringIO()
    fig.savefig(svg, format="svg", bbox_inches="tight")
    points = _min_font_pt(fig)
    plt.close(fig)
    return Figure(
        title=title,
        png=outputs["png"],
        svg=svg.getvalue(),
        caption=caption,
        min_font_px=points * dpi / 72 if points else None,
        png_print=outputs["png_print"],
        pdf=outputs["pdf"],
    )


_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;
margin:2rem auto;padding:0 1rem;color:#1d1d1f;line-height:1.45;overflow-wrap:anywhere}
h1{font-size:1.7rem}h2{font-size:1.3rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;
margin-top:2rem}h3{font-size:1.05rem}
.table-scroll,.figure-scroll{max-width:100%;overflow-x:auto}
.table-scroll:focus{outline:2px solid #4a6fa5}
table{border-collapse:collapse;margin:.5rem 0 .6rem;font-size:.9rem;overflow-wrap:normal;
line-height:1.3}
th,td{padding:.15rem .6rem;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left;white-space:normal;min-width:8rem;
max-width:min(18rem,48vw);overflow-wrap:anywhere}
thead th{border-top:2px solid #1d1d1f;border-bottom:1px solid #1d1d1f;font-weight:normal}
tbody tr:last-child td,tbody tr:last-child th{border-bottom:2px solid #1d1d1f}
tbody th{font-weight:normal}tr.group th{font-style:italic;padding-top:.35rem}
tbody th[scope=row]{padding-left:1.4rem}
table.data td,table.data th{border-bottom:1px solid #e5e5e5}
.apa-table{margin:1rem 0}.apa-note{font-size:.85rem;color:#333;margin-top:0}
.apa-title{font-size:.95rem;margin-bottom:.3rem}
figure{margin:1rem 0}img{max-width:100%;height:auto}
.figure-scroll img{width:100%}
figcaption{font-size:.85rem;color:#555}
pre{background:#f6f6f6;padding:.75rem;overflow-x:auto;font-size:.85rem}
nav.toc ol{padding-left:1.2rem}.methods{background:#f7f7fa;padding:.6rem .8rem;
border-left:3px solid #4a6fa5}.references li{padding-left:1.5rem;text-indent:-1.5rem;
list-style:none}.references ul{padding-left:0}
footer{margin-top:3rem;font-size:.8rem;color:#555;border-top:1px solid #ddd;padding-top:.5rem}
code{overflow-wrap:anywhere}
"""

#: readable headers for the columns of plain tables (describe() and the like)
_HEADERS = {
    "count": "n",
    "mean": "M",
    "std": "SD",
    "min": "Min",
    "25%": "Q1",
    "50%": "Mdn",
    "75%": "Q3",
    "max": "Max",
    "missing": "Missing",
    "variable": "Variable",
    "ci_low": "CI lower",
    "ci_high": "CI upper",
    "se": "SE",
    "p": "p",
    "n_excluded_dyads": "Dyads left out",
}


def tidy_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A plain table as text cells: readable headers, p as APA prints it, numbers with
    two to four significant decimals and a true minus sign, missing values blank."""
    from dyadlab.report.apa_format import decimals_for, format_number, format_p, is_number

    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        header = _HEADERS.get(str(col), str(col).replace("_", " "))
        values = frame[col]
        if str(col) == "p" or str(col).endswith("_p"):
            out[header] = [format_p(v) for v in values]
        elif pd.api.types.is_bool_dtype(values):
            out[header] = ["yes" if v else "no" for v in values]
        elif pd.api.types.is_numeric_dtype(values):
            whole = values.dropna().apply(lambda v: float(v).is_integer()).all()
            out[header] = [
                (f"{int(v)}" if whole else format_number(v, decimals_for(None, v)))
                if is_number(v)
                else ""
                for v in values
            ]
        else:
            out[header] = [
                "" if v is None or (isinstance(v, float) and v != v) else str(v) for v in values
            ]
    return out


def _table_html(caption: str, frame: pd.DataFrame) -> str:
    body = tidy_frame(frame).to_html(index=False, na_rep="", border=0, escape=True, classes="data")
    label = _html.escape(caption or "table")
    wrapped = (
        f'<div class="table-scroll" role="region" tabindex="0" aria-label="{label}">{body}</div>'
    )
    return f"<h3>{_html.escape(caption)}</h3>\n{wrapped}" if caption else wrapped


def _figure_html(figure: Figure) -> str:
    data = base64.b64encode(figure.png).decode("ascii")
    caption = _html.escape(figure.caption or figure.title)
    alt = _html.escape(figure.title)
    width, height = figure.size_px
    min_width = figure.min_width_px()
    style = (
        f' style="min-width:{min_width}px;max-width:{max(width, min_width or 0)}px"'
        if min_width
        else ""
    )
    font = f' data-min-font-px="{figure.min_font_px!r}"' if figure.min_font_px else ""
    size = f' width="{width}" height="{height}"' if width else ""
    return (
        f'<figure><div class="figure-scroll" role="region" tabindex="0" aria-label="{alt}">'
        f'<img src="data:image/png;base64,{data}" alt="{alt}"{size}{style}{font}></div>'
        f"<figcaption>{caption}</figcaption></figure>"
    )


def references_of(sections: Sequence[Section]) -> list[str]:
    """The references cited by ``sections``, each once, in alphabetical order."""
    return sorted({ref for section in sections for ref in section.references})


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
    refs = references_of(sections)
    if len(sections) > 1:
        items = [f'<li><a href="#{s.anchor}">{_html.escape(s.title)}</a></li>' for s in sections]
        if refs:
            items.append('<li><a href="#references">References</a></li>')
        parts.append(
            '<nav class="toc" aria-label="Contents"><h2>Contents</h2><ol>'
            + "".join(items)
            + "</ol></nav>"
        )
    for section in sections:
        parts.append(f'<section id="{section.anchor}"><h2>{_html.escape(section.title)}</h2>')
        if section.text:
            for paragraph in section.text.split("\n\n"):
                parts.append(f"<p>{_html.escape(paragraph)}</p>")
        if section.preformatted:
            parts.append(f"<pre>{_html.escape(section.preformatted)}</pre>")
        for table in section.apa:
            parts.append(table.to_html())
        for caption, frame in section.tables:
            parts.append(_table_html(caption, frame))
        for figure in section.figures:
            parts.append(_figure_html(figure))
        if section.methods:
            parts.append(
                '<h3>Methods</h3><p class="methods">' + _html.escape(section.methods) + "</p>"
            )
        parts.append("</section>")
    if refs:
        parts.append(
            '<section id="references" class="references"><h2>References</h2><ul>'
            + "".join(f"<li>{_html.escape(r)}</li>" for r in refs)
            + "</ul></section>"
        )
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


#: the formats of :func:`write_report`
REPORT_FORMATS = ("html", "docx", "tex", "md")


def report_format(path: str | Path, format: str | None) -> str:
    """The report format: ``format`` if given, else from the file's suffix, else HTML.

    Examples
    --------
    >>> report_format("out/report.docx", None), report_format("r.html", "tex")
    ('docx', 'tex')
    """
    from dyadlab._validation import check_option

    if format is None:
        suffix = Path(path).suffix.lower().lstrip(".")
        format = {"latex": "tex", "markdown": "md", "htm": "html"}.get(suffix, suffix)
        return format if format in REPORT_FORMATS else "html"
    aliases = {"latex": "tex", "markdown": "md", "word": "docx"}
    return str(
        check_option("format", aliases.get(format, format), REPORT_FORMATS, func="write_report")
    )


def write_report(
    path: str | Path,
    title: str,
    sections: Sequence[Section],
    *,
    provenance: Provenance | None = None,
    figures_dir: str | Path | None = None,
    format: str | None = None,
) -> Path:
    """Write the report to ``path`` and return the path.

    Parameters
    ----------
    path : path
        The file to write.
    title : str
    sections : sequence of Section
    provenance : Provenance, optional
    figures_dir : path, optional
        Also write every figure there as PNG (300 dpi), SVG and PDF. A LaTeX or
        Markdown report needs its figures as files: without ``figures_dir`` they go to
        ``<stem>_figures/`` beside the report.
    format : {"html", "docx", "tex", "md"}, optional
        Default: from the suffix of ``path`` (``.docx``, ``.tex``, ``.md``), else HTML.
        ``docx`` needs ``pip install 'dyadlab[publish]'``.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> out = write_report(os.path.join(folder, "r.md"), "T", [Section("A", text="x")])
    >>> out.read_text().splitlines()[0]
    '# T'
    """
    out = Path(path)
    kind = report_format(out, format)
    out.parent.mkdir(parents=True, exist_ok=True)
    has_figures = any(section.figures for section in sections)
    if figures_dir is None and kind in ("tex", "md") and has_figures:
        figures_dir = out.parent / f"{out.stem}_figures"
    names: dict[int, str] = {}
    if figures_dir is not None:
        folder = Path(figures_dir)
        folder.mkdir(parents=True, exist_ok=True)
        seen: dict[str, int] = {}
        for section in sections:
            for figure in section.figures:
                n = seen.get(figure.slug, 0)
                seen[figure.slug] = n + 1
                stem = figure.slug if n == 0 else f"{figure.slug}-{n + 1}"
                names[id(figure)] = str(Path(folder, stem))
                (folder / f"{stem}.png").write_bytes(figure.png_print or figure.png)
                if figure.svg is not None:
                    (folder / f"{stem}.svg").write_text(figure.svg, encoding="utf-8")
                if figure.pdf is not None:
                    (folder / f"{stem}.pdf").write_bytes(figure.pdf)
    if kind == "html":
        out.write_text(render_report(title, sections, provenance=provenance), encoding="utf-8")
        return out
    from dyadlab.report import formats

    figure_files = {k: Path(v) for k, v in names.items()}
    if kind == "docx":
        out.write_bytes(formats.render_docx(title, sections, provenance=provenance))
    elif kind == "tex":
        out.write_text(
            formats.render_latex(
                title, sections, provenance=provenance, figures=figure_files, base=out.parent
            ),
            encoding="utf-8",
        )
    else:
        out.write_text(
            formats.render_markdown(
                title, sections, provenance=provenance, figures=figure_files, base=out.parent
            ),
            encoding="utf-8",
        )
    return out
