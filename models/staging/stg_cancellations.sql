with

objects as (
    select * from {{ source('raw', 'objects') }}
    where object_type = 'cancellation'
),

requests as (
    select
        data_source_uuid,
        external_id as cancellation_key,
        {{ json_field('body', 'subscription_external_id') }} as subscription_external_id,
        {{ json_field('body', 'cancelled_at') }} as cancelled_at_text,
        {{ json_value('body', 'cancellation_dates') }} as cancellation_dates,
        load_id,
        object_seq
    from objects
),

history_dates as (
    select
        object_seq,
        {{ json_string_array_elements('cancellation_dates') }} as cancelled_at_text
    from requests
    where cancellation_dates is not null
),

-- One row per cancellation date; a `cancellation_dates: []` request keeps one row with no date, because it
-- still replaces the subscription's cancellation history.
final as (
    select
        requests.data_source_uuid,
        requests.cancellation_key,
        requests.subscription_external_id,
        {{ parse_timestamp('coalesce(requests.cancelled_at_text, history_dates.cancelled_at_text)') }}
            as cancelled_at,
        requests.cancellation_dates is not null as is_history_replacement,
        requests.load_id,
        requests.object_seq
    from requests
    left join history_dates
        on requests.object_seq = history_dates.object_seq
)

select * from final
