"""Interdependence-aware models for dyadic data.

Each model is a function that returns a :class:`~dyadlab.models._result.ModelResult`.
"""

from dyadlab.models import power
from dyadlab.models._result import ModelResult

__all__ = ["ModelResult", "power"]
