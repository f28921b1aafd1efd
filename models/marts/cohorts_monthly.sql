-- One row per cohort month and month number, for the whole business (D34). The SQL is macros/monthly_cohorts.sql,
-- shared with cohorts_monthly_by_source.
{{ monthly_cohorts() }}
