with

data_sources as (
    select * from {{ source('raw', 'data_sources') }}
),

final as (
    select
        uuid as data_source_uuid,
        name as data_source_name,
        auto_churn_enabled as is_auto_churn_enabled,
        auto_churn_interval_days,
        include_deleted_customers as is_including_deleted_customers,
        created_at
    from data_sources
)

select * from final
