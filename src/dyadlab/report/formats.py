"""The report as Word, LaTeX or Markdown: the same sections as the HTML page.

:func:`~dyadlab.report.html.write_report` calls these for ``format="docx"``, ``"tex"``
and ``"md"``. Each keeps the order of the HTML report: title, then per section its
text, its APA tables (real Word tables; ``booktabs`` in LaTeX; pipe tables in
Markdown), its plain tables, its figures and its methods paragraph; then the
references and how to reproduce the report. Word embeds the figures (PNG at 300 dpi);
LaTeX and Markdown refer to the figure files written beside the report (PDF and PNG).

Examples
--------
>>> from dyadlab.report.html import Section
>>> md = render_markdown("Report", [Section("Data", text="Two couples.")])
>>> md.splitlines()[:3]
['# Report', '', '## Data']
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from dyadlab.report.apa_render import (
    add_docx_table,
    border,
    latex_escape,
    new_document,
    table_latex,
    table_markdown,
)
from dyadlab.report.html import Provenance, Section, references_of, tidy_frame

__all__ = ["render_docx", "render_latex", "render_markdown"]


def _provenance_lines(prov: Provenance | None) -> list[str]:
    prov = prov or Provenance()
    lines = [
        f"Made with dyadlab {prov.dyadlab_version} (Python {prov.python_version}) on "
        f"{prov.created}."
    ]
    if prov.data_sha256:
        name = f"{prov.data_name}, " if prov.data_name else ""
        lines.append(f"Data: {name}SHA-256 {prov.data_sha256}")
    if prov.call:
        lines.append(f"Call: {prov.call}")
    return lines


def _relative(path: Path, base: Path | None) -> str:
    if base is None:
        return path.as_posix()
    return Path(os.path.relpath(path, base)).as_posix()


# -- Markdown --------------------------------------------------------------------------


def _frame_markdown(frame: pd.DataFrame) -> str:
    shown = tidy_frame(frame)
    esc = [str(c).replace("|", "\\|") for c in shown.columns]
    lines = ["| " + " | ".join(esc) + " |", "|" + "|".join(["---"] * len(esc)) + "|"]
    for row in shown.itertuples(index=False):
        lines.append("| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |")
    return "\n".join(lines)


def render_markdown(
    title: str,
    sections: Sequence[Section],
    *,
    provenance: Provenance | None = None,
    figures: Mapping[int, Path] | None = None,
    base: Path | None = None,
) -> str:
    """The report as Markdown (figures as links to their PNG files)."""
    figures = figures or {}
    out = [f"# {title}", ""]
    for section in sections:
        out += [f"## {section.title}", ""]
        for paragraph in section.text.split("\n\n") if section.text else []:
            out += [paragraph, ""]
        if section.preformatted:
            out += ["```", section.preformatted, "```", ""]
        for table in section.apa:
            out += [table_markdown(table), ""]
        for caption, frame in section.tables:
            if caption:
                out += [f"*{caption}*", ""]
            out += [_frame_markdown(frame), ""]
        for figure in section.figures:
            stem = figures.get(id(figure))
            if stem is not None:
                link = _relative(stem.with_suffix(".png"), base)
                out += [f"![{figure.title}]({link})", ""]
            out += [f"*{figure.caption or figure.title}*", ""]
        if section.methods:
            out += ["### Methods", "", section.methods, ""]
    refs = references_of(sections)
    if refs:
        out += ["## References", ""] + [f"- {r}" for r in refs] + [""]
    out += ["---", ""] + [f"{line}  " for line in _provenance_lines(provenance)]
    return "\n".join(out) + "\n"


# -- LaTeX -----------------------------------------------------------------------------


def _frame_latex(caption: str, frame: pd.DataFrame) -> str:
    shown = tidy_frame(frame)
    cols = "l" + "r" * (len(shown.columns) - 1)
    lines = ["\\begin{table}[htbp]", "\\centering"]
    if caption:
        lines.append(f"\\caption{{{latex_escape(caption)}}}")
    lines += [
        f"\\begin{{tabular}}{{{cols}}}",
        "\\toprule",
        " & ".join(latex_escape(str(c)) for c in shown.columns) + " \\\\",
        "\\midrule",
    ]
    for row in shown.itertuples(index=False):
        lines.append(" & ".join(latex_escape(str(v)) for v in row) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines)


def render_latex(
    title: str,
    sections: Sequence[Section],
    *,
    provenance: Provenance | None = None,
    figures: Mapping[int, Path] | None = None,
    base: Path | None = None,
) -> str:
    """The report as a LaTeX document (``article``, ``booktabs``, ``graphicx``)."""
    figures = figures or {}
    esc = latex_escape
    out = [
        "\\documentclass[11pt]{article}",
        "\\usepackage[T1]{fontenc}",
        "\\usepackage[utf8]{inputenc}",
        "\\usepackage{booktabs}",
        "\\usepackage{graphicx}",
        "\\usepackage[margin=2.5cm]{geometry}",
        "\\usepackage{textcomp}",
        f"\\title{{{esc(title)}}}",
        "\\date{}",
        "\\begin{document}",
        "\\maketitle",
        "",
    ]
    for section in sections:
        out += [f"\\section{{{esc(section.title)}}}", ""]
        for paragraph in section.text.split("\n\n") if section.text else []:
            out += [esc(paragraph), ""]
        if section.preformatted:
            out += ["\\begin{verbatim}", section.preformatted, "\\end{verbatim}", ""]
        for table in section.apa:
            out += [table_latex(table), ""]
        for caption, frame in section.tables:
            out += [_frame_latex(caption, frame), ""]
        for figure in section.figures:
            stem = figures.get(id(figure))
            if stem is None:
                continue
            out += [
                "\\begin{figure}[htbp]",
                "\\centering",
                "\\includegraphics[width=\\linewidth]"
                f"{{{_relative(stem.with_suffix('.pdf'), base)}}}",
                f"\\caption{{{esc(figure.caption or figure.title)}}}",
                "\\end{figure}",
                "",
            ]
        if section.methods:
            out += ["\\subsection*{Methods}", esc(section.methods), ""]
    refs = references_of(sections)
    if refs:
        out += ["\\section*{References}", "\\begin{itemize}"]
        out += [f"\\item[] {esc(r)}" for r in refs]
        out += ["\\end{itemize}", ""]
    out += ["\\bigskip\\hrule\\smallskip", "{\\footnotesize"]
    out += [esc(line) + "\\\\" for line in _provenance_lines(provenance)]
    out += ["}", "\\end{document}"]
    return "\n".join(out) + "\n"


# -- Word ------------------------------------------------------------------------------


def _frame_docx(doc: Any, caption: str, frame: pd.DataFrame) -> None:
    """A plain table with the APA rules of the model tables (horizontal lines only)."""
    shown = tidy_frame(frame)
    if caption:
        doc.add_paragraph().add_run(caption).italic = True
    table = doc.add_table(rows=len(shown) + 1, cols=len(shown.columns))
    for cell, name in zip(table.rows[0].cells, shown.columns, strict=True):
        cell.text = str(name)
        border(cell, top="single", bottom="single")
    for i, row in enumerate(shown.itertuples(index=False), start=1):
        for cell, value in zip(table.rows[i].cells, row, strict=True):
            cell.text = str(value)
    for cell in table.rows[-1].cells:
        border(cell, bottom="single")


def render_docx(
    title: str, sections: Sequence[Section], *, provenance: Provenance | None = None
) -> bytes:
    """The report as a Word document (bytes); tables are real Word tables."""
    from docx.shared import Inches

    doc = new_document()
    doc.add_heading(title, level=0)
    number = 0
    for section in sections:
        doc.add_heading(section.title, level=1)
        for paragraph in section.text.split("\n\n") if section.text else []:
            doc.add_paragraph(paragraph)
        if section.preformatted:
            doc.add_paragraph(section.preformatted)
        for table in section.apa:
            number += 1
            add_docx_table(doc, table if table.number else replace(table, number=number))
        for caption, frame in section.tables:
            _frame_docx(doc, caption, frame)
        for figure in section.figures:
            doc.add_picture(io.BytesIO(figure.png_print or figure.png), width=Inches(6))
            doc.add_paragraph(figure.caption or figure.title).runs[0].italic = True
        if section.methods:
            doc.add_heading("Methods", level=2)
            doc.add_paragraph(section.methods)
    refs = references_of(sections)
    if refs:
        doc.add_heading("References", level=1)
        for ref in refs:
            doc.add_paragraph(ref)
    for line in _provenance_lines(provenance):
        doc.add_paragraph(line).runs[0].italic = True
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
