"""The ChartMogul Import API v1 server (`mrr-warehouse serve`): see app.py."""
