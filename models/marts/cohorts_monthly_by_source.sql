-- One row per data source, cohort month and month number: cohorts_monthly for the customers of that data source
-- (after merges). The SQL is macros/monthly_cohorts.sql.
{{ monthly_cohorts(partition_by=["data_source_uuid"]) }}
