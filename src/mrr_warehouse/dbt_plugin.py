"""dbt-duckdb plugin (profiles.yml `plugins: - module: mrr_warehouse.dbt_plugin`) that publishes the snapshot.

The on-run-end macro `publish_snapshot` decides whether a run may publish and which marts there are (from dbt's
graph), then calls `adapter.store_relation('dbt_plugin', ...)`, dbt-duckdb's way for a macro to hand work to a
plugin's `store`. The work itself is `mrr_warehouse.published.publish`, on a cursor of the build's own DuckDB
connection: DuckDB lets one process open a file, and the build already holds the warehouse. (A DuckDB UDF would
be the other way in; duckdb's Python UDFs need numpy, which the project does not otherwise use.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from dbt.adapters.duckdb.plugins import BasePlugin
from dbt.adapters.duckdb.utils import TargetConfig
from dbt.adapters.events.logging import AdapterLogger
from duckdb import DuckDBPyConnection

from mrr_warehouse import landing, published

logger = AdapterLogger("mrr_warehouse")


def effective_vars(project_dir: str | None, cli_vars: Any) -> dict[str, Any]:
    """The project's vars (dbt_project.yml) with the values given on the command line (`--vars`) over them:
    what every model of the build saw. dbt's Jinja cannot list vars, so they are read here."""
    defaults: dict[str, Any] = {}
    if project_dir:
        project = yaml.safe_load((Path(project_dir) / "dbt_project.yml").read_text()) or {}
        defaults = dict(project.get("vars") or {})
    if isinstance(cli_vars, str):  # dbt keeps --vars as given when it is YAML text
        cli_vars = yaml.safe_load(cli_vars) if cli_vars.strip() else {}
    return {**defaults, **(cli_vars or {})}


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self._conn: DuckDBPyConnection | None = None
        landing.restrict_new_files()  # a warehouse that dbt creates is as private as one the CLI creates

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        # dbt-duckdb opens the database anew when all its handles were closed; keep the newest.
        self._conn = conn
        landing.limit_duckdb_threads(conn)

    def store(self, target_config: TargetConfig) -> None:
        if self._conn is None:
            raise published.PublishError("the dbt-duckdb connection is not open; cannot publish")
        request = target_config.config
        marts = [published.Source(**mart) for mart in request["marts"]]
        build = dict(request["build"])
        build["vars"] = effective_vars(request.get("project_dir"), request.get("cli_vars"))
        cursor = self._conn.cursor()
        try:
            result = published.publish(cursor, marts, build)
        finally:
            cursor.close()
        logger.info(
            f"published {len(result.row_counts)} tables of build {build['build_id']} to {result.path}"
            f" in {result.seconds:.2f} s"
        )
