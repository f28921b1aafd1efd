{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ prune_replaced_objects('line_item') }}",
) }}
{%- set fields = [
    'external_id', 'type', 'subscription_external_id', 'subscription_set_external_id', 'plan_external_id',
    'service_period_start', 'service_period_end', 'amount_in_cents', 'quantity', 'discount_amount_in_cents',
    'discount_code', 'tax_amount_in_cents', 'transaction_fees_in_cents', 'prorated', 'proration_type',
    'cancelled_at', 'event_order',
] %}

with

objects as (
    {{ immutable_objects('line_item') }}
),

parsed as (
    select
        *,
        {{ json_record('body', fields) }} as body_fields
    from objects
),

final as (
    select
        data_source_uuid,
        external_id as line_item_key,
        invoice_external_id,
        {{ json_record_field('body_fields', 'external_id') }} as line_item_external_id,
        {{ json_record_field('body_fields', 'type') }} as line_item_type,
        {{ json_record_field('body_fields', 'subscription_external_id') }} as subscription_external_id,
        {{ json_record_field('body_fields', 'subscription_set_external_id') }} as subscription_set_external_id,
        {{ json_record_field('body_fields', 'plan_external_id') }} as plan_external_id,
        {{ typed_field('line_item', 'service_period_start', read_record_field) }} as service_period_start_at,
        {{ typed_field('line_item', 'service_period_end', read_record_field) }} as service_period_end_at,
        {{ typed_field('line_item', 'amount_in_cents', read_record_field) }} as amount_in_cents,
        coalesce({{ typed_field('line_item', 'quantity', read_record_field) }}, 1) as quantity,
        coalesce({{ typed_field('line_item', 'discount_amount_in_cents', read_record_field) }}, 0)
            as discount_amount_in_cents,
        {{ json_record_field('body_fields', 'discount_code') }} as discount_code,
        coalesce({{ typed_field('line_item', 'tax_amount_in_cents', read_record_field) }}, 0)
            as tax_amount_in_cents,
        coalesce({{ typed_field('line_item', 'transaction_fees_in_cents', read_record_field) }}, 0)
            as transaction_fees_in_cents,
        coalesce({{ typed_field('line_item', 'prorated', read_record_field) }}, false) as is_prorated,
        coalesce({{ json_record_field('body_fields', 'proration_type') }}, 'differential') as proration_type,
        {{ typed_field('line_item', 'cancelled_at', read_record_field) }} as cancelled_at,
        {{ typed_field('line_item', 'event_order', read_record_field) }} as event_order,
        position as line_item_position,
        load_id,
        object_seq
    from parsed
    where {{ unreadable_fields('line_item', read_record_field) }} is null
)

select * from final
