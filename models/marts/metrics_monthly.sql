-- One row per month: the SaaS metrics of the whole business (SPEC 5). The SQL is macros/monthly_metrics.sql,
-- shared with metrics_monthly_by_source.
{{ monthly_metrics() }}
