"""Presenting results: plots and self-contained HTML reports.

matplotlib is imported only inside the functions that draw, so that importing
dyadlab stays light.
"""
