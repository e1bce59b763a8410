"""Render an :class:`~dyadlab.report.apa_table.ApaTable` as HTML, Word, LaTeX, Markdown or CSV.

Every format shows the same cells: the title (numbered "Table N" when the table has a
number), the column headers (statistical symbols italic), group headings, rows and a
"Note." under the table. HTML tables sit in a scroll wrapper so a phone scrolls the
table, not the page. Word tables are real tables with APA rules (top, under the
header, bottom; no vertical lines), made with python-docx (``pip install
'dyadlab[publish]'``). LaTeX uses ``booktabs``. CSV holds the unrounded numbers.

Examples
--------
>>> import dyadlab as dl
>>> res = dl.apim(dl.simulate_apim(40, rng=1), y="y", x="x", dyad="dyad", role="role")
>>> from dyadlab.report.apa_table import apa_table
>>> tex = render_table(apa_table(res), "latex")
>>> "\\\\toprule" in tex and "\\\\textit{p}" in tex
True
"""

from __future__ import annotations

import csv
import html as _html
import io
import re
from typing import TYPE_CHECKING, Any

from dyadlab._validation import check_option

if TYPE_CHECKING:
    from dyadlab.report.apa_table import ApaTable

__all__ = ["FORMATS", "add_docx_table", "border", "latex_escape", "new_document", "render_table"]

#: the formats a table renders to
FORMATS = ("html", "markdown", "latex", "csv", "docx")


def render_table(table: ApaTable, fmt: str) -> str | bytes:
    """``table`` in format ``fmt`` (``"docx"`` gives bytes, the others text)."""
    fmt = check_option("format", fmt, [*FORMATS, "md", "tex"], func="table")
    fmt = {"md": "markdown", "tex": "latex"}.get(fmt, fmt)
    if fmt == "html":
        return table_html(table)
    if fmt == "markdown":
        return table_markdown(table)
    if fmt == "latex":
        return table_latex(table)
    if fmt == "csv":
        buffer = io.StringIO()
        # 17 significant digits: the CSV gives back the result's floats exactly
        table.frame().to_csv(buffer, index=False, quoting=csv.QUOTE_MINIMAL, float_format="%.17g")
        return buffer.getvalue()
    doc = new_document()
    add_docx_table(doc, table)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _caption(table: ApaTable) -> tuple[str, str]:
    return (f"Table {table.number}" if table.number is not None else "", table.title)


# -- HTML ------------------------------------------------------------------------------


def table_html(table: ApaTable) -> str:
    """The table as an HTML ``<figure class="apa-table">`` with a scroll wrapper."""
    esc = _html.escape
    number, title = _caption(table)
    head = "".join(
        f'<th scope="col">{"<em>" + esc(c.header) + "</em>" if c.italic else esc(c.header)}</th>'
        for c in table.columns
    )
    n_cols = len(table.columns) + 1
    body = []
    for group in table.groups:
        body.append(
            f'<tr class="group"><th scope="rowgroup" colspan="{n_cols}">'
            f"{esc(group.title)}</th></tr>"
        )
        for row in group.rows:
            cells = "".join(f"<td>{esc(row.cells.get(c.key, ''))}</td>" for c in table.columns)
            body.append(f'<tr><th scope="row">{esc(row.label)}</th>{cells}</tr>')
    caption = (f"<strong>{esc(number)}</strong><br>" if number else "") + f"<em>{esc(title)}</em>"
    notes = ""
    if table.notes:
        notes = (
            '<p class="apa-note"><em>Note.</em> ' + " ".join(esc(n) for n in table.notes) + "</p>"
        )
    # the title sits above the scroll wrapper, so a phone shows it whole
    return (
        f'<figure class="apa-table"><figcaption class="apa-title">{caption}</figcaption>'
        f'<div class="table-scroll" role="region" tabindex="0" aria-label="{esc(title)}">'
        "<table>"
        f'<thead><tr><th scope="col">{esc(table.stub)}</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>{notes}</figure>"
    )


# -- Markdown --------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("*", "\\*")


def table_markdown(table: ApaTable) -> str:
    """The table as a Markdown pipe table: title above, note below."""
    number, title = _caption(table)
    lines = []
    if number:
        lines.append(f"**{number}**")
        lines.append("")
    lines.append(f"*{_md(title)}*")
    lines.append("")
    head = [_md(table.stub)] + [
        f"*{_md(c.header)}*" if c.italic else _md(c.header) for c in table.columns
    ]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join([":---"] + ["---:"] * len(table.columns)) + "|")
    for group in table.groups:
        lines.append(f"| *{_md(group.title)}* |" + " |" * len(table.columns))
        for row in group.rows:
            cells = [_md(row.cells.get(c.key, "")) for c in table.columns]
            lines.append(f"| {_md(row.label)} | " + " | ".join(cells) + " |")
    if table.notes:
        lines.append("")
        lines.append("*Note.* " + " ".join(_md(n) for n in table.notes))
    return "\n".join(lines) + "\n"


# -- LaTeX -----------------------------------------------------------------------------

_TEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "\u2212": "$-$",
    "→": r"$\rightarrow$",
    "×": r"$\times$",
    "χ²": r"$\chi^2$",
    "κ": r"$\kappa$",
    "α": r"$\alpha$",
    "β": r"$\beta$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "–": "--",
    "—": "---",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
    "²": r"\textsuperscript{2}",
}
_TEX_RE = re.compile("|".join(re.escape(k) for k in sorted(_TEX_SPECIAL, key=len, reverse=True)))


def latex_escape(text: str) -> str:
    """``text`` safe for LaTeX (specials escaped, Greek letters and the minus as math).

    Examples
    --------
    >>> latex_escape("b_1 = −0.42 & χ² < 5%")
    'b\\\\_1 = $-$0.42 \\\\& $\\\\chi^2$ \\\\textless{} 5\\\\%'
    """
    return _TEX_RE.sub(lambda m: _TEX_SPECIAL[m.group(0)], text)


def table_latex(table: ApaTable) -> str:
    """The table as a LaTeX ``table`` float with ``booktabs`` rules (needs ``booktabs``)."""
    esc = latex_escape
    number, title = _caption(table)
    n_cols = len(table.columns) + 1
    head = " & ".join(
        [esc(table.stub)]
        + [f"\\textit{{{esc(c.header)}}}" if c.italic else esc(c.header) for c in table.columns]
    )
    lines = [
        "\\begin{table}[htbp]",
        "\\centering",
        f"\\caption{{{esc(title)}}}",
        "\\begin{tabular}{l" + "r" * len(table.columns) + "}",
        "\\toprule",
        head + " \\\\",
        "\\midrule",
    ]
    for group in table.groups:
        lines.append(f"\\multicolumn{{{n_cols}}}{{l}}{{\\textit{{{esc(group.title)}}}}} \\\\")
        for row in group.rows:
            cells = [esc(row.cells.get(c.key, "")) for c in table.columns]
            lines.append("\\quad " + " & ".join([esc(row.label), *cells]) + " \\\\")
    lines.append("\\bottomrule")
    lines.append("\\end{tabular}")
    if table.notes:
        note = " ".join(esc(n) for n in table.notes)
        lines.append(
            "\\par\\smallskip\\begin{minipage}{\\linewidth}\\footnotesize\\textit{Note.} "
            f"{note}\\end{{minipage}}"
        )
    lines.append("\\end{table}")
    if number:
        lines.insert(3, f"% {number}")
    return "\n".join(lines) + "\n"


# -- Word ------------------------------------------------------------------------------


def new_document() -> Any:
    """A new python-docx Document in Times New Roman 12 pt (APA's default)."""
    try:
        import docx
    except ImportError as exc:  # pragma: no cover - the publish extra is installed in tests
        from dyadlab.exceptions import DyadlabError

        raise DyadlabError(
            "Word output needs python-docx: pip install 'dyadlab[publish]'."
        ) from exc
    from docx.shared import Pt

    doc = docx.Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(12)
    return doc


def border(cell: Any, **edges: str) -> None:
    """Set cell borders, e.g. ``top="single"``: APA rules are horizontal lines only."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    borders = tc_pr.find(qn("w:tcBorders"))
    if borders is None:
        borders = OxmlElement("w:tcBorders")
        tc_pr.append(borders)
    for edge, kind in edges.items():
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), kind)
        el.set(qn("w:sz"), "8")
        el.set(qn("w:color"), "000000")
        borders.append(el)


def _cell_text(
    cell: Any, text: str, *, italic: bool = False, right: bool = False, indent: bool = False
) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    paragraph = cell.paragraphs[0]
    run = paragraph.add_run(text)
    run.italic = italic
    if right:
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if indent:
        paragraph.paragraph_format.left_indent = Pt(12)


def add_docx_table(doc: Any, table: ApaTable) -> Any:
    """Append ``table`` to the python-docx Document ``doc`` (title, table, note)."""
    number, title = _caption(table)
    if number:
        doc.add_paragraph().add_run(number).bold = True
    doc.add_paragraph().add_run(title).italic = True
    n_cols = len(table.columns) + 1
    n_rows = 1 + sum(1 + len(g.rows) for g in table.groups)
    word = doc.add_table(rows=n_rows, cols=n_cols)
    header = word.rows[0].cells
    _cell_text(header[0], table.stub)
    for cell, col in zip(header[1:], table.columns, strict=True):
        _cell_text(cell, col.header, italic=col.italic, right=True)
    for cell in header:
        border(cell, top="single", bottom="single")
    i = 1
    for group in table.groups:
        cells = word.rows[i].cells
        merged = cells[0].merge(cells[-1])
        _cell_text(merged, group.title, italic=True)
        i += 1
        for row in group.rows:
            cells = word.rows[i].cells
            _cell_text(cells[0], row.label, indent=True)
            for cell, col in zip(cells[1:], table.columns, strict=True):
                _cell_text(cell, row.cells.get(col.key, ""), right=True)
            i += 1
    for cell in word.rows[-1].cells:
        border(cell, bottom="single")
    if table.notes:
        note = doc.add_paragraph()
        note.add_run("Note.").italic = True
        note.add_run(" " + " ".join(table.notes))
    return word
