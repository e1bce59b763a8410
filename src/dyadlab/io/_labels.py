"""Variable labels and value labels: checking them and carrying them between formats.

SPSS and Stata files keep a label per variable ("Relationship satisfaction, 1–7") and
labels per value (``{1: "not at all", 7: "completely"}``). dyadlab keeps both in
``df.attrs["variable_labels"]`` (column -> label) and ``df.attrs["value_labels"]``
(column -> {value: label}), and writes them back to the formats that can store them.

Examples
--------
>>> import pandas as pd
>>> df = pd.DataFrame({"sex": pd.Categorical(["f", "m", None])})
>>> out, labels = categoricals_to_codes(df, {})
>>> out["sex"].tolist()[:2], labels["sex"]
([1.0, 2.0], {1: 'f', 2: 'm'})
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from dyadlab._validation import closest
from dyadlab.exceptions import FileFormatError, OptionError

__all__ = [
    "ValueLabels",
    "VariableLabels",
    "categoricals_to_codes",
    "labels_from_json",
    "labels_to_json",
    "resolve_labels",
    "tidy_value_labels",
    "tidy_variable_labels",
]

VariableLabels = dict[str, str]
ValueLabels = dict[str, dict[Any, str]]


def _plain_value(value: Any) -> Any:
    """Return ``value`` as a plain Python number (integral floats become ints) or str."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return value


def tidy_variable_labels(raw: Mapping[Any, Any] | None) -> VariableLabels:
    """Drop empty labels and make every key and label a ``str``."""
    if not raw:
        return {}
    return {str(col): str(label) for col, label in raw.items() if label not in (None, "")}


def tidy_value_labels(raw: Mapping[Any, Mapping[Any, Any]] | None) -> ValueLabels:
    """Make value-label keys plain numbers (``1.0`` -> ``1``) and labels ``str``."""
    if not raw:
        return {}
    return {
        str(col): {_plain_value(v): str(label) for v, label in mapping.items()}
        for col, mapping in raw.items()
        if mapping
    }


def _check_keys(labels: Mapping[Any, Any], df: pd.DataFrame, *, argument: str, func: str) -> None:
    columns = [str(c) for c in df.columns]
    for key in labels:
        if str(key) not in columns:
            hint = closest(str(key), columns)
            fix = f" Did you mean {hint!r}?" if hint else " Give labels only for columns of df."
            raise OptionError(
                f"{func}(): {argument} names column {key!r}, which is not in df.{fix}"
            )


def resolve_labels(
    df: pd.DataFrame,
    variable_labels: Mapping[Any, Any] | None,
    value_labels: Mapping[Any, Mapping[Any, Any]] | None,
    *,
    func: str,
) -> tuple[VariableLabels, ValueLabels]:
    """Return the labels to write: the arguments if given, else those in ``df.attrs``.

    Labels for columns that are not in ``df`` raise :class:`OptionError` when they come
    from the arguments; labels in ``df.attrs`` for columns since removed are skipped.
    """
    if variable_labels is None:
        var = tidy_variable_labels(df.attrs.get("variable_labels"))
        var = {c: lab for c, lab in var.items() if c in df.columns}
    else:
        if not isinstance(variable_labels, Mapping):
            raise OptionError(
                f"{func}(): variable_labels must be a dict of column -> label, not "
                f"{type(variable_labels).__name__}. Pass e.g. {{'sat': 'Satisfaction'}}."
            )
        _check_keys(variable_labels, df, argument="variable_labels", func=func)
        var = tidy_variable_labels(variable_labels)
    if value_labels is None:
        val = tidy_value_labels(df.attrs.get("value_labels"))
        val = {c: m for c, m in val.items() if c in df.columns}
    else:
        if not isinstance(value_labels, Mapping) or not all(
            isinstance(m, Mapping) for m in value_labels.values()
        ):
            raise OptionError(
                f"{func}(): value_labels must be a dict of column -> {{value: label}}. "
                "Pass e.g. {'sex': {1: 'female', 2: 'male'}}."
            )
        _check_keys(value_labels, df, argument="value_labels", func=func)
        val = tidy_value_labels(value_labels)
    return var, val


def categoricals_to_codes(
    df: pd.DataFrame, value_labels: ValueLabels
) -> tuple[pd.DataFrame, ValueLabels]:
    """Replace categorical columns by codes 1..k and label each code with its category.

    SPSS and Stata have no categorical type: a category becomes a labelled number, the
    way those programs store them. Categories that are already numbers are written as
    those numbers (labelled with themselves unless labels were given). A column with
    value labels of its own keeps them.
    """
    out = df.copy()
    labels = dict(value_labels)
    for column in df.columns:
        series = df[column]
        if not isinstance(series.dtype, pd.CategoricalDtype):
            continue
        categories = series.cat.categories
        name = str(column)
        if pd.api.types.is_numeric_dtype(categories.dtype):
            out[column] = series.astype("float64")
            labels.setdefault(name, {_plain_value(c): str(c) for c in categories})
        else:
            codes = series.cat.codes.to_numpy().astype("float64") + 1.0
            codes[series.isna().to_numpy()] = np.nan
            out[column] = codes
            labels.setdefault(name, {i + 1: str(c) for i, c in enumerate(categories)})
    return out, labels


def labels_to_json(variable_labels: VariableLabels, value_labels: ValueLabels) -> bytes:
    """Encode labels for a Parquet file's metadata, keeping numeric value keys exact."""
    payload = {
        "variable_labels": variable_labels,
        "value_labels": {
            col: [[v, lab] for v, lab in m.items()] for col, m in value_labels.items()
        },
    }
    return json.dumps(payload).encode("utf-8")


def labels_from_json(raw: bytes, *, path: str) -> tuple[VariableLabels, ValueLabels]:
    """Decode what :func:`labels_to_json` wrote; raise :class:`FileFormatError` if garbled."""
    try:
        payload = json.loads(raw.decode("utf-8"))
        var = tidy_variable_labels(payload.get("variable_labels"))
        val = tidy_value_labels(
            {
                col: dict((v, lab) for v, lab in pairs)
                for col, pairs in payload["value_labels"].items()
            }
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise FileFormatError(
            f"read_table(): the labels stored in {path!r} cannot be decoded ({exc}). "
            "The data are intact: read it with pandas.read_parquet() to skip the labels."
        ) from exc
    return var, val
