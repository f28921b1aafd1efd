"""mrr_warehouse: ChartMogul Import API JSON landed in DuckDB, modelled with dbt."""

__version__ = "0.1.0"
