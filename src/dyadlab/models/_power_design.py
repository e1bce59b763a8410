"""The population values of a standardised APIM power analysis (no NumPy: the analytic
path of ``dyadlab power apim`` imports only this, issue 21).

Examples
--------
>>> design = PowerScenario(
...     actor=0.3, partner=0.15, r_x=0.3, r_e=0.3, alpha=0.05, distinguishable=True
... )
>>> design.error_variance
0.8605
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PowerScenario"]


@dataclass(frozen=True)
class PowerScenario:
    """The population values of a standardised APIM power analysis."""

    actor: float
    partner: float
    r_x: float
    r_e: float
    alpha: float
    distinguishable: bool

    @property
    def error_variance(self) -> float:
        """Residual variance of a standardised outcome: 1 - a² - p² - 2 a p r_x."""
        a, p = self.actor, self.partner
        return 1.0 - a * a - p * p - 2.0 * a * p * self.r_x
