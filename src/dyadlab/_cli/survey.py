"""``dyadlab survey``: design-based means, totals, proportions and GLMs.

Thin commands over :func:`dyadlab.survey.design` and its methods: each reads the data
file, builds the design, runs one estimate and prints the summary, or with ``--json``
exactly one JSON object.

Examples
--------
$ dyadlab survey mean panel.csv --var loneliness --by relationship --weights weight \\
      --strata stratum --cluster psu --json
$ dyadlab survey glm panel.csv --y depression --x loneliness --x relationship \\
      --weights weight --strata stratum --cluster psu --family gaussian
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from dyadlab._cli._common import DataFile, JsonOption, LevelOption, print_result, require_options

HELP = "Representative samples: design-based means, proportions and GLMs (as R's survey)."

WeightsOption = Annotated[
    str | None, typer.Option("--weights", help="Sampling-weight column (required).")
]
StrataOption = Annotated[str | None, typer.Option("--strata", help="Stratum column.")]
ClusterOption = Annotated[
    list[str] | None,
    typer.Option("--cluster", help="Cluster column per stage, first stage first (repeat)."),
]
FpcOption = Annotated[
    list[str] | None,
    typer.Option("--fpc", help="Population size (or sampling fraction) column per stage."),
]
NestOption = Annotated[bool, typer.Option("--nest", help="PSU ids restart in every stratum.")]
LonelyOption = Annotated[
    str,
    typer.Option(
        "--lonely-psu", help="A stratum with one PSU: fail, remove, certainty, adjust, average."
    ),
]
ByOption = Annotated[str | None, typer.Option("--by", help="Domain (group) column.")]


def register(app: typer.Typer) -> None:
    """Add the ``survey`` command group to ``app``."""
    survey_app = typer.Typer(name="survey", help=HELP, no_args_is_help=True)
    survey_app.command("mean", help="Weighted means per domain (svymean, svyby).")(mean_command)
    survey_app.command("total", help="Weighted totals per domain (svytotal).")(total_command)
    survey_app.command(
        "proportion", help="Proportions with logit or Korn-Graubard CIs (svyciprop)."
    )(proportion_command)
    survey_app.command("glm", help="Design-based GLM with Wald F per term (svyglm).")(glm_command)
    app.add_typer(survey_app, name="survey")


def _design(data: Any, design: dict[str, Any]) -> Any:
    from dyadlab.survey import design as make_design

    return make_design(data, **design)


def _estimate(data: Any, *, design: dict[str, Any], estimate: str, **kwargs: Any) -> Any:
    """Build the design and run one of its methods: no statistics here."""
    return getattr(_design(data, design), estimate)(**kwargs)


def _design_args(
    command: str,
    weights: str | None,
    strata: str | None,
    cluster: list[str] | None,
    fpc: list[str] | None,
    nest: bool,
    lonely_psu: str,
) -> dict[str, Any]:
    require_options(
        command,
        [(weights, "--weights", "name the sampling-weight column")],
    )
    return {
        "weights": weights,
        "strata": strata,
        "cluster": list(cluster) if cluster else None,
        "fpc": list(fpc) if fpc else None,
        "nest": nest,
        "lonely_psu": lonely_psu,
    }


def _run(data: DataFile, as_json: bool, **arguments: Any) -> None:
    from dyadlab.io import read_table

    print_result(_estimate, read_table(data), as_json=as_json, **arguments)


def mean_command(
    data: DataFile,
    var: Annotated[
        list[str] | None, typer.Option("--var", help="Variable(s) to average (required).")
    ] = None,
    by: ByOption = None,
    weights: WeightsOption = None,
    strata: StrataOption = None,
    cluster: ClusterOption = None,
    fpc: FpcOption = None,
    nest: NestOption = False,
    lonely_psu: LonelyOption = "fail",
    level: LevelOption = 0.95,
    as_json: JsonOption = False,
) -> None:
    """Run :meth:`dyadlab.survey.SurveyDesign.mean` on a data file and print the result."""
    require_options("survey mean", [(var, "--var", "name the variable to average")])
    design = _design_args("survey mean", weights, strata, cluster, fpc, nest, lonely_psu)
    _run(data, as_json, design=design, estimate="mean", var=list(var or []), by=by, level=level)


def total_command(
    data: DataFile,
    var: Annotated[
        list[str] | None, typer.Option("--var", help="Variable(s) to total (required).")
    ] = None,
    by: ByOption = None,
    weights: WeightsOption = None,
    strata: StrataOption = None,
    cluster: ClusterOption = None,
    fpc: FpcOption = None,
    nest: NestOption = False,
    lonely_psu: LonelyOption = "fail",
    as_json: JsonOption = False,
) -> None:
    """Run :meth:`dyadlab.survey.SurveyDesign.total` on a data file and print the result."""
    require_options("survey total", [(var, "--var", "name the variable to total")])
    design = _design_args("survey total", weights, strata, cluster, fpc, nest, lonely_psu)
    _run(data, as_json, design=design, estimate="total", var=list(var or []), by=by)


def proportion_command(
    data: DataFile,
    var: Annotated[
        str | None, typer.Option("--var", help="A 0/1 variable, or one with --value (required).")
    ] = None,
    value: Annotated[
        str | None, typer.Option("--value", help="Count respondents whose --var equals this.")
    ] = None,
    by: ByOption = None,
    method: Annotated[
        str, typer.Option("--method", help="logit or beta (Korn-Graubard).")
    ] = "logit",
    weights: WeightsOption = None,
    strata: StrataOption = None,
    cluster: ClusterOption = None,
    fpc: FpcOption = None,
    nest: NestOption = False,
    lonely_psu: LonelyOption = "fail",
    level: LevelOption = 0.95,
    as_json: JsonOption = False,
) -> None:
    """Run :meth:`dyadlab.survey.SurveyDesign.proportion` and print the result."""
    require_options("survey proportion", [(var, "--var", "name the 0/1 variable")])
    design = _design_args("survey proportion", weights, strata, cluster, fpc, nest, lonely_psu)
    _run(
        data,
        as_json,
        design=design,
        estimate="proportion",
        var=var,
        value=value,
        by=by,
        level=level,
        method=method,
    )


def glm_command(
    data: DataFile,
    y: Annotated[str | None, typer.Option("--y", help="Outcome column (required).")] = None,
    x: Annotated[
        list[str] | None, typer.Option("--x", help="Predictor column (repeat; required).")
    ] = None,
    family: Annotated[
        str, typer.Option("--family", help="gaussian, quasibinomial or poisson.")
    ] = "gaussian",
    weights: WeightsOption = None,
    strata: StrataOption = None,
    cluster: ClusterOption = None,
    fpc: FpcOption = None,
    nest: NestOption = False,
    lonely_psu: LonelyOption = "fail",
    level: LevelOption = 0.95,
    as_json: JsonOption = False,
) -> None:
    """Run :meth:`dyadlab.survey.SurveyDesign.glm` on a data file and print the result."""
    require_options(
        "survey glm",
        [(y, "--y", "name the outcome column"), (x, "--x", "name at least one predictor")],
    )
    design = _design_args("survey glm", weights, strata, cluster, fpc, nest, lonely_psu)
    _run(
        data,
        as_json,
        design=design,
        estimate="glm",
        y=y,
        x=list(x or []),
        family=family,
        level=level,
    )
