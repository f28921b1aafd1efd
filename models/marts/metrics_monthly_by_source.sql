-- One row per data source and month: the SaaS metrics of metrics_monthly for the rows of that data source (a
-- customer counts in the source it belongs to after merges). The SQL is macros/monthly_metrics.sql.
{{ monthly_metrics(partition_by=["data_source_uuid"]) }}
