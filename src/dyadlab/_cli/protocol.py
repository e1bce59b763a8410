"""``dyadlab protocol``: check a study protocol, convert it, and write its codebook.

A protocol is a YAML file, an XLSForm spreadsheet (``.xlsx``) or a REDCap data
dictionary (``.csv``); see :mod:`dyadlab.platform.protocol`.

Examples
--------
$ dyadlab protocol check daily_diary.yaml
$ dyadlab protocol check diary.xlsx --json
{"title": "Daily intimacy in couples", "content_hash": "…", ...}
$ dyadlab protocol convert diary.xlsx --out diary.yaml
$ dyadlab protocol codebook diary.yaml --out redcap_dictionary.csv
"""

from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["register"]

protocol_app = typer.Typer(
    help="Check, convert and document study protocols (YAML, XLSForm .xlsx, REDCap .csv).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``protocol`` command group to ``app``."""
    app.add_typer(protocol_app, name="protocol")


def summary(protocol: Any) -> dict[str, Any]:
    """Return the JSON summary ``dyadlab protocol check --json`` prints."""
    return {
        "title": protocol.title,
        "content_hash": protocol.content_hash,
        "languages": list(protocol.languages),
        "default_language": protocol.default_language,
        "roles": protocol.roles,
        "consent_version": protocol.consent_version,
        "questionnaires": [
            {
                "name": q.name,
                "n_items": len(q.items),
                "items": [i.name for i in q.items],
                "about_partner": [i.name for i in q.items if i.about == "partner"],
            }
            for q in protocol.questionnaires
        ],
        "schedule": [e.model_dump(exclude_defaults=True) for e in protocol.schedule],
        "choices": sorted(protocol.choices),
        "analysis": [dict(e) for e in protocol.analysis],
        "rating_sessions": [r.name for r in protocol.rating_sessions],
    }


@protocol_app.command("check")
def check_command(
    path: Annotated[Path, typer.Argument(help="Protocol file: .yaml/.yml, .xlsx or .csv.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object instead of text.")
    ] = False,
    source_language: Annotated[
        str,
        typer.Option("--source-language", help="Language of a REDCap dictionary's labels."),
    ] = "en",
) -> None:
    """Read a protocol and report its problems (one line naming the place) or its content.

    What a spreadsheet has that dyadlab does not use (columns, settings, metadata) is
    listed as warnings: in the text after the summary, in the JSON as ``warnings``.
    """
    from dyadlab.exceptions import DyadlabWarning
    from dyadlab.platform.protocol import load_protocol

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DyadlabWarning)
        protocol = load_protocol(path, language=source_language)
    info = summary(protocol)
    info["warnings"] = [str(w.message) for w in caught if issubclass(w.category, DyadlabWarning)]
    if as_json:
        typer.echo(json.dumps(info, ensure_ascii=False))
        return
    typer.echo(f"{path.name}: valid protocol {info['title']!r} ({info['content_hash'][:12]})")
    typer.echo(f"  languages: {', '.join(info['languages'])} (default {info['default_language']})")
    for q in info["questionnaires"]:
        partner = f", {len(q['about_partner'])} about the partner" if q["about_partner"] else ""
        typer.echo(f"  questionnaire {q['name']}: {q['n_items']} items{partner}")
    for entry in protocol.schedule:
        detail = {
            "daily": f"at {entry.time} for {entry.window_minutes} min",
            "random": (
                f"{entry.prompts_per_day} a day between {entry.block_start} and "
                f"{entry.block_end}, {entry.min_gap_minutes} min apart"
            ),
            "event": f"up to {entry.max_per_day or 'any number'} a day",
        }[entry.type]
        days = f", {entry.days} days" if entry.days else ""
        typer.echo(f"  schedule {entry.questionnaire}: {entry.type}, {detail}{days}")
    if protocol.analysis:
        models = ", ".join(e["model"] for e in protocol.analysis)
        n = len(protocol.analysis)
        typer.echo(f"  analysis plan: {n} model{'s' if n > 1 else ''} ({models})")
    for r in protocol.rating_sessions:
        n_chapters = len(r.stimulus.chapters) if r.stimulus is not None else 0
        chapters = f", {n_chapters} stimulus chapter{'s' * (n_chapters != 1)}" if n_chapters else ""
        typer.echo(
            f"  rating session {r.name}: {r.min:g} to {r.max:g} at {r.rate_hz:g} Hz, "
            f"up to {r.max_minutes} min{chapters}"
        )
    for message in info["warnings"]:
        typer.echo(f"  warning: {message}")


@protocol_app.command("convert")
def convert_command(
    path: Annotated[Path, typer.Argument(help="Protocol file: .yaml/.yml, .xlsx or .csv.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="File to write (required); its suffix (.yaml, .xlsx) chooses the format.",
        ),
    ] = None,
    source_language: Annotated[
        str,
        typer.Option("--source-language", help="Language of a REDCap dictionary's labels."),
    ] = "en",
) -> None:
    """Write a protocol in another format (YAML or XLSForm); the content hash stays the same."""
    from dyadlab._cli._common import require_options
    from dyadlab.exceptions import OptionError
    from dyadlab.platform.protocol import load_protocol, write_xlsform

    require_options("protocol convert", [(out, "--out", "e.g. --out protocol.xlsx")])
    assert out is not None

    protocol = load_protocol(path, language=source_language)
    suffix = out.suffix.lower()
    if suffix in (".yaml", ".yml"):
        import yaml

        text = yaml.safe_dump(protocol.to_dict(), allow_unicode=True, sort_keys=False)
        out.write_text(text, encoding="utf-8")
    elif suffix == ".xlsx":
        write_xlsform(protocol, out)
    else:
        raise OptionError(
            f"protocol convert: --out {str(out)!r} must end in .yaml, .yml or .xlsx; "
            "use `dyadlab protocol codebook --out FILE.csv` for a REDCap dictionary."
        )
    typer.echo(f"wrote {out} ({protocol.content_hash[:12]})")


@protocol_app.command("codebook")
def codebook_command(
    path: Annotated[Path, typer.Argument(help="Protocol file: .yaml/.yml, .xlsx or .csv.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="CSV file to write (default: print the codebook)."),
    ] = None,
    redcap: Annotated[
        bool,
        typer.Option("--redcap/--plain", help="Write a REDCap data dictionary (default)."),
    ] = True,
    language: Annotated[
        str | None, typer.Option("--language", help="Label language for REDCap.")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the codebook rows as one JSON object.")
    ] = False,
    source_language: Annotated[
        str,
        typer.Option("--source-language", help="Language of a REDCap dictionary's labels."),
    ] = "en",
) -> None:
    """Write the codebook: a REDCap data dictionary, or one plain row per item."""
    from dyadlab.platform.protocol import load_protocol, to_redcap_dictionary

    protocol = load_protocol(path, language=source_language)
    rows: list[dict[str, Any]] = (
        list(to_redcap_dictionary(protocol, language=language)) if redcap else protocol.codebook()
    )
    if as_json:
        typer.echo(json.dumps({"rows": rows}, ensure_ascii=False))
        return
    if out is None:
        writer = csv.DictWriter(typer.get_text_stream("stdout"), fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        return
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    typer.echo(f"wrote {out} ({len(rows)} rows)")
