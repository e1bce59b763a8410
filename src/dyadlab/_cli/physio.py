"""``dyadlab physio``: VPA, synchrony, its surrogate test and concordance from a data file.

Thin commands over :func:`dyadlab.physio.vpa`, :func:`dyadlab.physio.synchrony`,
:func:`dyadlab.physio.surrogate_test` and :func:`dyadlab.physio.concordance`: each reads
the data file (one row per sample, or per person-epoch for concordance), calls the
function and prints the summary, or with ``--json`` exactly one JSON object.

Examples
--------
$ dyadlab physio vpa session.csv --signal vpa_ac --rate 1000 --json
$ dyadlab physio synchrony couple.csv --a woman --b man --rate 10 --window 30 \\
      --step 5 --max-lag 5 --lag-step 0.1 --json
$ dyadlab physio surrogates couple.csv --a woman --b man --rate 10 --window 30 \\
      --step 5 --max-lag 5 --lag-step 0.1 --method iaaft --n 200 --seed 1 --json
$ dyadlab physio concordance epochs.csv --subjective rating --genital vpa \\
      --person person --time epoch --dyad couple --lag 0 --lag 1 --json
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dyadlab._cli._common import (
    DataFile,
    DyadOption,
    JsonOption,
    LevelOption,
    PersonOption,
    notes_in_result,
    print_result,
    require_options,
)
from dyadlab.exceptions import DyadicDataError

if TYPE_CHECKING:  # numpy and pandas load when a command runs, not at start-up
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

HELP = (
    "Genital psychophysiology and partners' arousal: VPA beats, windowed cross-correlation, "
    "surrogate tests, subjective–genital concordance."
)

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
    physio_app.command(
        "surrogates", help="Is the synchrony above chance? Circular, segment or IAAFT surrogates."
    )(surrogates_command)
    physio_app.command(
        "concordance", help="Subjective–genital concordance (Chivers et al. 2010) per lag."
    )(concordance_command)
    app.add_typer(physio_app, name="physio")


def _column(frame: pd.DataFrame, column: str, data: Path) -> npt.NDArray[np.float64]:
    import numpy as np
    import pandas as pd

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


AOption = Annotated[str | None, typer.Option("--a", help="Column of series a (required).")]
WindowOption = Annotated[float | None, typer.Option("--window", help="Window, s (required).")]
StepOption = Annotated[float | None, typer.Option("--step", help="Step, s (required).")]
MaxLagOption = Annotated[float | None, typer.Option("--max-lag", help="Largest lag, s (required).")]
LagStepOption = Annotated[
    float | None, typer.Option("--lag-step", help="Lag increment, s (required).")
]


def _two_series(
    command: str,
    data: Path,
    a: str | None,
    b: str | None,
    rate: float | None,
    window: float | None,
    step: float | None,
    max_lag: float | None,
    lag_step: float | None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float, dict[str, Any]]:
    """The two columns, the rate and the WCC settings of ``synchrony``/``surrogates``."""
    from dyadlab.io import read_table

    require_options(
        f"physio {command}",
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
    settings = {"window": window, "step": step, "max_lag": max_lag, "lag_step": lag_step}
    return _column(frame, a, data), _column(frame, b, data), rate, settings


def synchrony_command(
    data: DataFile,
    a: AOption = None,
    b: Annotated[str | None, typer.Option("--b", help="Column of series b (required).")] = None,
    rate: RateOption = None,
    window: WindowOption = None,
    step: StepOption = None,
    max_lag: MaxLagOption = None,
    lag_step: LagStepOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run :func:`dyadlab.physio.synchrony` on two columns and print the result."""
    from dyadlab.physio._synchrony import synchrony

    x, y, fs, settings = _two_series("synchrony", data, a, b, rate, window, step, max_lag, lag_step)
    with notes_in_result():
        result = synchrony(x, y, fs, **settings)
    typer.echo(result.to_json() if as_json else result.summary())


def surrogates_command(
    data: DataFile,
    a: AOption = None,
    b: Annotated[
        str | None, typer.Option("--b", help="Column of series b, replaced by surrogates.")
    ] = None,
    rate: RateOption = None,
    window: WindowOption = None,
    step: StepOption = None,
    max_lag: MaxLagOption = None,
    lag_step: LagStepOption = None,
    method: Annotated[
        str, typer.Option("--method", help="Surrogates: circular, segment or iaaft.")
    ] = "circular",
    n: Annotated[int, typer.Option("--n", help="Number of surrogates.", min=1)] = 200,
    statistic: Annotated[
        str, typer.Option("--statistic", help="mean_abs_r, mean_peak_r or mean_r_lag0.")
    ] = "mean_abs_r",
    segment: Annotated[
        float | None, typer.Option("--segment", help="Segment length, s (default: --window).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Random seed.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Run :func:`dyadlab.physio.surrogate_test` on two columns and print the result."""
    import json

    from dyadlab.physio._surrogates import surrogate_test

    x, y, fs, settings = _two_series(
        "surrogates", data, a, b, rate, window, step, max_lag, lag_step
    )
    with notes_in_result():
        result = surrogate_test(
            x, y, fs, **settings, method=method, n=n, statistic=statistic, segment=segment, rng=seed
        )
    typer.echo(json.dumps(result.to_dict()) if as_json else result.summary())


def concordance_command(
    data: DataFile,
    subjective: Annotated[
        str | None, typer.Option("--subjective", help="Column of the rating (required).")
    ] = None,
    genital: Annotated[
        str | None, typer.Option("--genital", help="Column of the genital measure (required).")
    ] = None,
    person: PersonOption = None,
    time: Annotated[
        str | None, typer.Option("--time", help="Integer epoch column (required).")
    ] = None,
    dyad: DyadOption = None,
    lag: Annotated[
        list[int] | None,
        typer.Option("--lag", help="Lag in epochs (genital leads when > 0); repeat for more."),
    ] = None,
    level: LevelOption = 0.95,
    as_json: JsonOption = False,
) -> None:
    """Run :func:`dyadlab.physio.concordance` on a person-epoch file and print the result."""
    from dyadlab.io import read_table
    from dyadlab.physio._concordance import concordance

    require_options(
        "physio concordance",
        [
            (subjective, "--subjective", "name the column of the subjective rating"),
            (genital, "--genital", "name the column of the genital measure"),
            (person, "--person", "name the person id column"),
            (time, "--time", "name the integer epoch column"),
        ],
    )
    print_result(
        concordance,
        read_table(data),
        subjective=subjective,
        genital=genital,
        person=person,
        time=time,
        dyad=dyad,
        lags=lag or [0],
        level=level,
        as_json=as_json,
    )
