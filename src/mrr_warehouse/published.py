"""Where readers find the published snapshot of the marts (issue 12, item 1).

Minimal stand-in so that `mrr-warehouse report` can name its default input; the snapshot writer itself lives on
another branch and replaces this module when the two are merged.
"""

from __future__ import annotations

import os
from pathlib import Path

from mrr_warehouse import landing

DEFAULT_FILE_NAME = "published.duckdb"


def database_path() -> str:
    """$MRR_WAREHOUSE_PUBLISHED_DB, else `published.duckdb` in the directory of the warehouse file."""
    configured = os.environ.get("MRR_WAREHOUSE_PUBLISHED_DB")
    if configured:
        return configured
    return str(Path(landing.database_path()).parent / DEFAULT_FILE_NAME)
