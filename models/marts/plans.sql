with

plans as (
    select * from {{ ref('stg_plans') }}
),

final as (
    select
        plan_uuid,
        data_source_uuid,
        plan_external_id,
        plan_name,
        interval_count,
        interval_unit
    from plans
)

select * from final
