-- One row per data source: its name and settings, so readers of the published snapshot (BI tools, the report)
-- can name the data_source_uuid the other marts carry.
with

data_sources as (
    select * from {{ ref('stg_data_sources') }}
),

final as (
    select
        data_source_uuid,
        data_source_name,
        is_auto_churn_enabled,
        auto_churn_interval_days,
        is_including_deleted_customers,
        created_at
    from data_sources
)

select * from final
