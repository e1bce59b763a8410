"""The platform core documents every public service function and its settings."""

from __future__ import annotations

import importlib

MODULES = [
    "dyadlab.platform",
    "dyadlab.platform.settings",
    "dyadlab.platform.db",
    "dyadlab.platform.tables",
    "dyadlab.platform.errors",
    "dyadlab.platform.security",
    "dyadlab.platform.services.participants",
    "dyadlab.platform.services.studies",
    "dyadlab.platform.services.consent",
    "dyadlab.platform.services.researchers",
    "dyadlab.platform.services.invitations",
    "dyadlab.platform.services.responses",
    "dyadlab.platform.services.export",
    "dyadlab.platform.services.compliance",
    "dyadlab.platform.services.withdrawal",
    "dyadlab.platform.services.reminders",
    "dyadlab.platform.app",
]


def test_every_public_service_function_has_a_docstring():
    for name in MODULES:
        module = importlib.import_module(name)
        for public in getattr(module, "__all__", []):
            obj = getattr(module, public)
            if callable(obj):
                assert (obj.__doc__ or "").strip(), f"{name}.{public} has no docstring"


def test_settings_are_documented_in_the_reference():
    """Settings is on the platform reference page, its fields under "Attributes" (a
    "Parameters" section on a pydantic model makes mkdocstrings warn under --strict)."""
    from pathlib import Path

    from dyadlab.platform.settings import Settings

    page = Path(__file__).parents[2] / "docs" / "reference" / "platform.md"
    assert "::: dyadlab.platform.settings.Settings" in page.read_text(encoding="utf-8")
    doc = Settings.__doc__ or ""
    assert "Attributes\n    ----------" in doc and "Parameters" not in doc
    for field in Settings.model_fields:
        assert f"    {field} : " in doc, field
