with

line_items as (
    select * from {{ ref('int_line_items_normalized') }}
),

changes as (
    select * from {{ ref('int_subscription_mrr_changes') }}
),

plans as (
    select * from {{ ref('stg_plans') }}
),

identities as (
    select * from {{ ref('int_customer_identities') }}
),

reported_lines as (
    select
        *,
        row_number() over (
            partition by data_source_uuid, subscription_external_id
            order by service_period_start_at desc, is_mrr_addition asc, object_seq desc
        ) as recency_rank
    from line_items
    where service_period_start_at < {{ reporting_cutoff_at() }}
),

latest_lines as (
    select
        data_source_uuid,
        subscription_external_id,
        customer_external_id,
        plan_external_id,
        currency,
        quantity
    from reported_lines
    where recency_rank = 1
),

coverage as (
    select
        data_source_uuid,
        subscription_external_id,
        min(service_period_start_at) as first_service_period_start_at,
        max(service_period_end_at) as covered_until_at
    from reported_lines
    group by data_source_uuid, subscription_external_id
),

change_history as (
    select
        data_source_uuid,
        subscription_external_id,
        min(case when is_active and not was_active then changed_at end) as started_at,
        max(case when was_active and not is_active then changed_at end) as last_cancelled_at
    from changes
    group by data_source_uuid, subscription_external_id
),

latest_changes as (
    select
        data_source_uuid,
        subscription_external_id,
        mrr_after_in_cents,
        native_mrr_after_in_cents,
        is_active
    from (
        select
            *,
            row_number() over (
                partition by data_source_uuid, subscription_external_id order by changed_at desc
            ) as recency_rank
        from changes
    ) as ranked
    where recency_rank = 1
),

-- Subscriptions with a reported line, and those known only from events (subscription_events_drive_mrr).
subscription_keys as (
    select
        data_source_uuid,
        subscription_external_id
    from latest_lines
    union
    select
        data_source_uuid,
        subscription_external_id
    from changes
),

owners as (
    select distinct
        data_source_uuid,
        subscription_external_id,
        customer_external_id
    from changes
),

final as (
    select
        {{ deterministic_uuid('sub', [
            'subscription_keys.data_source_uuid', "'subscription'", 'subscription_keys.subscription_external_id'
        ]) }} as subscription_uuid,
        subscription_keys.subscription_external_id,
        -- the customer it counts for: a merged customer's subscriptions belong to the survivor (SPEC 8)
        identities.reporting_customer_uuid as customer_uuid,
        identities.reporting_customer_external_id as customer_external_id,
        identities.reporting_data_source_uuid as customer_data_source_uuid,
        subscription_keys.data_source_uuid,
        plans.plan_uuid,
        latest_lines.plan_external_id,
        plans.plan_name,
        latest_lines.currency,
        latest_lines.quantity,
        change_history.started_at,
        case when not coalesce(latest_changes.is_active, false) then change_history.last_cancelled_at end
            as cancelled_at,
        coverage.covered_until_at,
        case
            when latest_changes.is_active and coverage.covered_until_at < {{ reporting_cutoff_at() }}
                then 'past_due'
            when latest_changes.is_active then 'active'
            when change_history.started_at is not null then 'cancelled'
            -- only trial or zero-value lines so far: no paid subscription (SPEC 3.1)
            else 'not_started'
        end as status,
        coalesce(latest_changes.mrr_after_in_cents, 0) as mrr_in_cents,
        coalesce(latest_changes.native_mrr_after_in_cents, 0) as native_mrr_in_cents
    from subscription_keys
    left join owners
        on
            subscription_keys.data_source_uuid = owners.data_source_uuid
            and subscription_keys.subscription_external_id = owners.subscription_external_id
    left join latest_lines
        on
            subscription_keys.data_source_uuid = latest_lines.data_source_uuid
            and subscription_keys.subscription_external_id = latest_lines.subscription_external_id
    left join coverage
        on
            subscription_keys.data_source_uuid = coverage.data_source_uuid
            and subscription_keys.subscription_external_id = coverage.subscription_external_id
    left join change_history
        on
            subscription_keys.data_source_uuid = change_history.data_source_uuid
            and subscription_keys.subscription_external_id = change_history.subscription_external_id
    left join latest_changes
        on
            subscription_keys.data_source_uuid = latest_changes.data_source_uuid
            and subscription_keys.subscription_external_id = latest_changes.subscription_external_id
    left join plans
        on
            latest_lines.data_source_uuid = plans.data_source_uuid
            and latest_lines.plan_external_id = plans.plan_external_id
    inner join identities
        on
            subscription_keys.data_source_uuid = identities.data_source_uuid
            and coalesce(owners.customer_external_id, latest_lines.customer_external_id)
            = identities.customer_external_id
)

select * from final
