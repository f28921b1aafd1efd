with

objects as (
    {{ current_objects('transaction', keep='first') }}
),

final as (
    select
        data_source_uuid,
        external_id as transaction_key,
        invoice_external_id,
        {{ json_field('body', 'external_id') }} as transaction_external_id,
        {{ json_field('body', 'type') }} as transaction_type,
        {{ json_field('body', 'result') }} as transaction_result,
        {{ parse_timestamp(json_field('body', 'date')) }} as transacted_at,
        cast({{ json_field('body', 'amount_in_cents') }} as bigint) as amount_in_cents,
        load_id,
        object_seq
    from objects
)

select * from final
