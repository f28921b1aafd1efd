with

objects as (
    {{ current_objects('line_item', keep='first') }}
),

final as (
    select
        data_source_uuid,
        external_id as line_item_key,
        invoice_external_id,
        {{ json_field('body', 'external_id') }} as line_item_external_id,
        {{ json_field('body', 'type') }} as line_item_type,
        {{ json_field('body', 'subscription_external_id') }} as subscription_external_id,
        {{ json_field('body', 'subscription_set_external_id') }} as subscription_set_external_id,
        {{ json_field('body', 'plan_external_id') }} as plan_external_id,
        {{ parse_timestamp(json_field('body', 'service_period_start')) }} as service_period_start_at,
        {{ parse_timestamp(json_field('body', 'service_period_end')) }} as service_period_end_at,
        cast({{ json_field('body', 'amount_in_cents') }} as bigint) as amount_in_cents,
        coalesce(cast({{ json_field('body', 'quantity') }} as bigint), 1) as quantity,
        coalesce(cast({{ json_field('body', 'discount_amount_in_cents') }} as bigint), 0)
            as discount_amount_in_cents,
        {{ json_field('body', 'discount_code') }} as discount_code,
        coalesce(cast({{ json_field('body', 'tax_amount_in_cents') }} as bigint), 0) as tax_amount_in_cents,
        coalesce(cast({{ json_field('body', 'transaction_fees_in_cents') }} as bigint), 0)
            as transaction_fees_in_cents,
        coalesce(cast({{ json_field('body', 'prorated') }} as boolean), false) as is_prorated,
        coalesce({{ json_field('body', 'proration_type') }}, 'differential') as proration_type,
        {{ parse_timestamp(json_field('body', 'cancelled_at')) }} as cancelled_at,
        cast({{ json_field('body', 'event_order') }} as bigint) as event_order,
        {{ json_field('body', 'description') }} as description,
        position as line_item_position,
        load_id,
        object_seq
    from objects
)

select * from final
