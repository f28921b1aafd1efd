with

line_items as (
    select * from {{ ref('int_line_items_normalized') }}
),

requests as (
    select * from {{ ref('stg_cancellations') }}
),

subscription_events as (
    select * from {{ ref('stg_subscription_events') }}
    where {{ 'true' if project_var('subscription_events_drive_mrr') else 'false' }}
),

all_cancellations as (
    select
        data_source_uuid,
        subscription_external_id,
        cancelled_at,
        false as is_history_replacement,
        object_seq,
        load_id,
        'line_item' as cause_type,
        invoice_external_id as cause_invoice_external_id,
        coalesce(line_item_external_id, line_item_key) as cause_object_key
    from line_items
    where cancelled_at is not null

    union all

    select
        data_source_uuid,
        subscription_external_id,
        cancelled_at,
        is_history_replacement,
        object_seq,
        load_id,
        'cancellation_request' as cause_type,
        cast(null as {{ dbt.type_string() }}) as cause_invoice_external_id,
        cancellation_key as cause_object_key
    from requests

    union all

    select
        data_source_uuid,
        subscription_external_id,
        effective_at as cancelled_at,
        false as is_history_replacement,
        object_seq,
        load_id,
        'subscription_event' as cause_type,
        cast(null as {{ dbt.type_string() }}) as cause_invoice_external_id,
        subscription_event_external_id as cause_object_key
    from subscription_events
    where event_type = 'subscription_cancelled'
),

-- `cancellation_dates` replaces the whole history: what was landed before the newest such request is void.
history_replacements as (
    select
        data_source_uuid,
        subscription_external_id,
        max(object_seq) as replaced_before_seq
    from all_cancellations
    where is_history_replacement
    group by data_source_uuid, subscription_external_id
),

effective as (
    select
        all_cancellations.*,
        row_number() over (
            partition by
                all_cancellations.data_source_uuid,
                all_cancellations.subscription_external_id,
                all_cancellations.cancelled_at
            order by all_cancellations.object_seq
        ) as duplicate_rank
    from all_cancellations
    left join history_replacements
        on
            all_cancellations.data_source_uuid = history_replacements.data_source_uuid
            and all_cancellations.subscription_external_id = history_replacements.subscription_external_id
    where
        all_cancellations.cancelled_at is not null
        and all_cancellations.object_seq >= coalesce(history_replacements.replaced_before_seq, 0)
),

final as (
    select
        data_source_uuid,
        subscription_external_id,
        cancelled_at,
        cause_type,
        cause_invoice_external_id,
        cause_object_key,
        load_id
    from effective
    where duplicate_rank = 1
)

select * from final
