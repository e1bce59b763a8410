"""Presenting results: APA tables, plots and reports (HTML, Word, LaTeX, Markdown).

- :func:`apa_table` / :func:`compare_table`: a result's APA 7 table, or several results
  side by side (``res.table(format=…)`` is the one-call form);
- :func:`write_report`: sections (text, APA tables, figures, methods) as self-contained
  HTML with a table of contents, or as Word (``format="docx"``), LaTeX (``"tex"``) or
  Markdown (``"md"``);
- :func:`~dyadlab.report.analysis.write_analysis_report`: every analysis a data set
  allows, as one report (what ``dyadlab report`` writes).

matplotlib is imported only inside the functions that draw, so that importing
dyadlab stays light.

Examples
--------
>>> import dyadlab as dl
>>> res = dl.apim(dl.simulate_apim(40, rng=1), y="y", x="x", dyad="dyad", role="role")
>>> apa_table(res).columns[0].header
'b'
"""

from dyadlab.report.apa_table import ApaTable, apa_table, compare_table
from dyadlab.report.html import Figure, Provenance, Section, write_report
from dyadlab.report.methods import methods_paragraph
from dyadlab.report.publish import result_table

__all__ = [
    "ApaTable",
    "Figure",
    "Provenance",
    "Section",
    "apa_table",
    "compare_table",
    "methods_paragraph",
    "result_table",
    "write_report",
]
