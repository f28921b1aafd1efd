"""The engine matrix shares the warehouse helpers of the main suite (tests/python)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))
