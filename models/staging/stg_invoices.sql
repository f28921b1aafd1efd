with

-- Invoices are immutable (the loader rejects a changed one); the first version is the invoice.
objects as (
    {{ current_objects('invoice', keep='first') }}
),

final as (
    select
        {{ deterministic_uuid('inv', ['data_source_uuid', "'invoice'", 'external_id']) }} as invoice_uuid,
        data_source_uuid,
        external_id as invoice_external_id,
        {{ json_field('body', 'customer_external_id') }} as customer_external_id,
        upper({{ json_field('body', 'currency') }}) as currency,
        {{ parse_timestamp(json_field('body', 'date')) }} as invoiced_at,
        {{ parse_timestamp(json_field('body', 'due_date')) }} as due_at,
        load_id,
        object_seq
    from objects
)

select * from final
