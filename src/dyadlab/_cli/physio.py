"""``dyadlab physio``: VPA beat by beat and partners' synchrony from a data file.

Thin commands over :func:`dyadlab.physio.vpa` and :func:`dyadlab.physio.synchrony`:
each reads the data file (one row per sample), calls the function and prints the
summary, or with ``--json`` exactly one JSON object.

Examples
--------
$ dyadlab physio vpa session.csv --signal vpa_ac --rate 1000 --json
$ dyadlab physio synchrony couple.csv --a woman --b man --rate 10 --window 30 \\
      --step 5 --max-lag 5 --lag-step 0.1 --json
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import numpy.typing as npt
import pandas as pd
import typer

from dyadlab._cli._common import DataFile, JsonOption, notes_in_result, require_options
from dyadlab.exceptions import DyadicDataError

HELP = "Genital psychophysiology and partners' synchrony: VPA beats, windowed cross-correlation."

RateOption = Annotated[float | None, typer.Option("--rate", help="Sampling rate in Hz (required).")]


def register(app: typer.Typer) -> None:
    """Add the ``physio`` command group to ``app``."""
    physio_app = typer.Typer(name="physio", help=HELP, no_args_is_help=True)
    physio_app.command("vpa", help="Vaginal pulse amplitude per beat with QC (one row per beat).")(
        vpa_command
    )
    physio_app.command(
        "synchrony", help="Windowed lagged cross-correlation (Boker et al. 2002) with peaks."
    )(synchrony_command)
    app.add_typer(physio_app, name="physio")


def _column(frame: pd.DataFrame, column: str, data: Path) -> npt.NDArray[np.float64]:
    if column not in frame.columns:
        from dyadlab._validation import closest

        hint = closest(column, [str(c) for c in frame.columns])
        fix = f" Did you mean {hint!r}?" if hint else ""
        raise DyadicDataError(f"physio: column {column!r} is not in {data.name}.{fix}")
    values = pd.to_numeric(frame[column], errors="coerce")
    if values.isna().all():
        raise DyadicDataError(f"physio: column {column!r} of {data.name} holds no numbers.")
    return np.asarray(values.to_numpy(dtype=float), dtype=np.float64)


def vpa_command(
    data: DataFile,
    signal: Annotated[
        str | None, typer.Option("--signal", help="Column of the AC pulse signal (required).")
    ] = None,
    rate: RateOption = None,
    edits: Annotated[
        Path | None, typer.Option("--edits", help="Manual-edit log (JSON) to replay.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run :func:`dyadlab.physio.vpa` on one column and print the beats."""
    from dyadlab.io import read_table
    from dyadlab.physio._vpa import vpa
    from dyadlab.physio.edits import EditLog

    require_options(
        "physio vpa",
        [
            (signal, "--signal", "name the column of the pulse signal"),
            (rate, "--rate", "give the sampling rate in Hz"),
        ],
    )
    assert signal is not None and rate is not None
    frame = read_table(data)
    log = EditLog.load(edits) if edits is not None else None
    with notes_in_result():
        result = vpa(_column(frame, signal, data), rate, edits=log)
    typer.echo(result.to_json() if as_json else result.summary())


def synchrony_command(
    data: DataFile,
    a: Annotated[str | None, typer.Option("--a", help="Column of series a (required).")] = None,
    b: Annotated[str | None, typer.Option("--b", help="Column of series b (required).")] = None,
    rate: RateOption = None,
    window: Annotated[float | None, typer.Option("--window", help="Window, s (required).")] = None,
    step: Annotated[float | None, typer.Option("--step", help="Step, s (required).")] = None,
    max_lag: Annotated[
        float | None, typer.Option("--max-lag", help="Largest lag, s (required).")
    ] = None,
    lag_step: Annotated[
        float | None, typer.Option("--lag-step", help="Lag increment, s (required).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run :func:`dyadlab.physio.synchrony` on two columns and print the result."""
    from dyadlab.io import read_table
    from dyadlab.physio._synchrony import synchrony

    require_options(
        "physio synchrony",
        [
            (a, "--a", "name the column of the first partner's series"),
            (b, "--b", "name the column of the second partner's series"),
            (rate, "--rate", "give the sampling rate in Hz"),
            (window, "--window", "give the window length in seconds"),
            (step, "--step", "give the step between windows in seconds"),
            (max_lag is not None, "--max-lag", "give the largest lag in seconds"),
            (lag_step, "--lag-step", "give the lag increment in seconds"),
        ],
    )
    assert a is not None and b is not None and rate is not None
    assert window is not None and step is not None and max_lag is not None
    assert lag_step is not None
    frame = read_table(data)
    with notes_in_result():
        result = synchrony(
            _column(frame, a, data),
            _column(frame, b, data),
            rate,
            window=window,
            step=step,
            max_lag=max_lag,
            lag_step=lag_step,
        )
    typer.echo(result.to_json() if as_json else result.summary())
