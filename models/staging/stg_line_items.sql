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
        {{ parse_timestamp(json_record_field('body_fields', 'service_period_start')) }} as service_period_start_at,
        {{ parse_timestamp(json_record_field('body_fields', 'service_period_end')) }} as service_period_end_at,
        cast({{ json_record_field('body_fields', 'amount_in_cents') }} as bigint) as amount_in_cents,
        coalesce(cast({{ json_record_field('body_fields', 'quantity') }} as bigint), 1) as quantity,
        coalesce(cast({{ json_record_field('body_fields', 'discount_amount_in_cents') }} as bigint), 0)
            as discount_amount_in_cents,
        {{ json_record_field('body_fields', 'discount_code') }} as discount_code,
        coalesce(cast({{ json_record_field('body_fields', 'tax_amount_in_cents') }} as bigint), 0)
            as tax_amount_in_cents,
        coalesce(cast({{ json_record_field('body_fields', 'transaction_fees_in_cents') }} as bigint), 0)
            as transaction_fees_in_cents,
        coalesce(cast({{ json_record_field('body_fields', 'prorated') }} as boolean), false) as is_prorated,
        coalesce({{ json_record_field('body_fields', 'proration_type') }}, 'differential') as proration_type,
        {{ parse_timestamp(json_record_field('body_fields', 'cancelled_at')) }} as cancelled_at,
        cast({{ json_record_field('body_fields', 'event_order') }} as bigint) as event_order,
        position as line_item_position,
        load_id,
        object_seq
    from parsed
)

select * from final
