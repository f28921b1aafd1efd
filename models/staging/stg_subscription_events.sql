with

-- Events take the newest version (last load wins).
objects as (
    {{ current_objects('subscription_event') }}
),

final as (
    select
        data_source_uuid,
        external_id as subscription_event_external_id,
        {{ json_field('body', 'customer_external_id') }} as customer_external_id,
        {{ json_field('body', 'subscription_external_id') }} as subscription_external_id,
        {{ json_field('body', 'subscription_set_external_id') }} as subscription_set_external_id,
        {{ json_field('body', 'plan_external_id') }} as plan_external_id,
        {{ json_field('body', 'event_type') }} as event_type,
        {{ parse_timestamp(json_field('body', 'event_date')) }} as event_at,
        {{ parse_timestamp(json_field('body', 'effective_date')) }} as effective_at,
        upper({{ json_field('body', 'currency') }}) as currency,
        cast({{ json_field('body', 'amount_in_cents') }} as bigint) as amount_in_cents,
        coalesce(cast({{ json_field('body', 'tax_amount_in_cents') }} as bigint), 0) as tax_amount_in_cents,
        cast({{ json_field('body', 'quantity') }} as bigint) as quantity,
        {{ json_field('body', 'retracted_event_id') }} as retracted_event_id,
        load_id,
        object_seq
    from objects
)

select * from final
