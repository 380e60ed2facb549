"""`python -m workers`: one arq worker with the settings from the environment.

Needs DATABASE_URL and REDIS_URL (`autopolicy worker` also starts embedded servers when unset).
LOG_LEVEL (default INFO) sets the verbosity of the JSON log lines on stdout.
"""

from __future__ import annotations

from domain.runtime import stop_signals

# First thing: a SIGTERM while the imports below and the start-up run is noted, and the worker
# then stops with status 0 instead of dying mid-start (domain/runtime/stop_signals.py).
stop_signals.defer()

import os
import sys

from domain.runtime.logs import configure_logging
from domain.runtime.settings import get_settings
from workers.settings import run_worker


def main() -> int:
    settings = get_settings()
    missing = [name for name, value in (("DATABASE_URL", settings.database_url),
                                        ("REDIS_URL", settings.redis_url)) if not value]
    if missing:
        print(f"python -m workers: set {' and '.join(missing)} "
              "(or use `autopolicy worker`, which starts embedded servers)", file=sys.stderr)
        return 2
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    run_worker(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
