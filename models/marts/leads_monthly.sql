with

customers as (
    select * from {{ ref('customers') }}
),

lifecycle_events as (
    select
        cast({{ dbt.date_trunc('month', 'lead_created_at') }} as date) as month,
        1 as is_lead,
        0 as is_trial,
        0 as is_conversion
    from customers
    where lead_created_at < {{ reporting_cutoff_at() }}
    union all
    select
        cast({{ dbt.date_trunc('month', 'free_trial_started_at') }} as date) as month,
        0 as is_lead,
        1 as is_trial,
        0 as is_conversion
    from customers
    where free_trial_started_at < {{ reporting_cutoff_at() }}
    union all
    -- a trial converts in the month its first paid subscription starts
    select
        cast({{ dbt.date_trunc('month', 'customer_since') }} as date) as month,
        0 as is_lead,
        0 as is_trial,
        1 as is_conversion
    from customers
    where free_trial_started_at is not null and customer_since is not null
),

final as (
    select
        month,
        sum(is_lead) as new_leads,
        sum(is_trial) as new_trials,
        sum(is_conversion) as trial_to_paid_conversions
    from lifecycle_events
    group by month
)

select * from final
