"""Child-process entry point of :class:`dyadlab.demo.server.ServerProcess`.

``python -m dyadlab.demo._serve HOST PORT WORKERS`` serves the platform app built by
:func:`make_app` from ``DYADLAB_*`` environment variables; ``DYADLAB_DEMO_CLOCK`` names
a :class:`~dyadlab.demo.server.FileClock` file (empty: the real clock). The database is
migrated by the parent before the workers start.
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["make_app"]


def make_app() -> Any:
    """The platform app with settings from the environment and the demo's clock."""
    from dyadlab.demo.server import FileClock
    from dyadlab.platform.app import create_app
    from dyadlab.platform.settings import Settings

    clock_file = os.environ.get("DYADLAB_DEMO_CLOCK", "")
    clock = FileClock(clock_file) if clock_file else None
    return create_app(Settings.from_env(), migrate=False, clock=clock)


def main(argv: list[str]) -> None:
    """Serve on ``argv = [host, port, workers]`` until terminated."""
    import uvicorn

    host, port, workers = argv[0], int(argv[1]), int(argv[2])
    uvicorn.run(
        "dyadlab.demo._serve:make_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_keep_alive=120,
    )


if __name__ == "__main__":
    main(sys.argv[1:])
