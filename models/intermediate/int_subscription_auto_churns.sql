{#- Grain: one row per instant at which a subscription is cancelled for not being paid (D7). Good faith: a
    subscription keeps its MRR past its last service period until cancelled, unless its data source (or, for a
    source that says nothing, var past_due_auto_churn_days) cancels it a number of days after the time its
    regular lines covered ends, with no new line by then. -#}
{%- set past_due_auto_churn_days = project_var('past_due_auto_churn_days') -%}

with

value_changes as (
    select * from {{ ref('int_subscription_value_changes') }}
),

data_sources as (
    select * from {{ ref('stg_data_sources') }}
),

line_resets as (
    select *
    from value_changes
    where change_kind = 'reset' and cause_type = 'line_item'
),

coverage as (
    select
        line_resets.data_source_uuid,
        line_resets.subscription_external_id,
        max(line_resets.service_period_end_at) over (
            partition by line_resets.data_source_uuid, line_resets.subscription_external_id
            order by line_resets.changed_at
            rows between unbounded preceding and current row
        ) as covered_until_at,
        lead(line_resets.changed_at) over (
            partition by line_resets.data_source_uuid, line_resets.subscription_external_id
            order by line_resets.changed_at
        ) as next_reset_at,
        case
            when data_sources.is_auto_churn_enabled then data_sources.auto_churn_interval_days
            when data_sources.is_auto_churn_enabled is null
                then cast({{ past_due_auto_churn_days if past_due_auto_churn_days is not none else 'null' }} as integer)
        end as auto_churn_days,
        line_resets.load_id
    from line_resets
    left join data_sources
        on line_resets.data_source_uuid = data_sources.data_source_uuid
),

final as (
    select
        data_source_uuid,
        subscription_external_id,
        {{ dbt.dateadd('day', 'auto_churn_days', 'covered_until_at') }} as changed_at,
        load_id
    from coverage
    where
        auto_churn_days is not null
        and (
            next_reset_at is null
            or next_reset_at > {{ dbt.dateadd('day', 'auto_churn_days', 'covered_until_at') }}
        )
)

select * from final
