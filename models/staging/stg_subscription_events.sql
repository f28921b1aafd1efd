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
        {{ typed_field('subscription_event', 'event_date', read_body_field) }} as event_at,
        {{ typed_field('subscription_event', 'effective_date', read_body_field) }} as effective_at,
        upper({{ json_field('body', 'currency') }}) as currency,
        {{ typed_field('subscription_event', 'amount_in_cents', read_body_field) }} as amount_in_cents,
        coalesce({{ typed_field('subscription_event', 'tax_amount_in_cents', read_body_field) }}, 0)
            as tax_amount_in_cents,
        {{ typed_field('subscription_event', 'quantity', read_body_field) }} as quantity,
        {{ json_field('body', 'retracted_event_id') }} as retracted_event_id,
        load_id,
        object_seq
    from objects
    where {{ unreadable_fields('subscription_event', read_body_field) }} is null
)

select * from final
