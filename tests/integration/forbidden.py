"""A module no worker is allowed to import: importing it leaves a trace the tests look for."""

from __future__ import annotations

import os
from pathlib import Path

marker = os.environ.get("ASYNCMQ_TEST_FORBIDDEN_MARKER")
if marker:
    Path(marker).write_text("imported")
IMPORTED = True


def boom() -> str:
    return "this must never run"
