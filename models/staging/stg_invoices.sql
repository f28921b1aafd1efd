{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ prune_replaced_objects('invoice') }}",
) }}
{%- set fields = ['customer_external_id', 'currency', 'date', 'due_date'] %}

with

objects as (
    {{ immutable_objects('invoice') }}
),

parsed as (
    select
        *,
        {{ json_record('body', fields) }} as body_fields
    from objects
),

final as (
    select
        {{ deterministic_uuid('inv', ['data_source_uuid', "'invoice'", 'external_id']) }} as invoice_uuid,
        data_source_uuid,
        external_id as invoice_external_id,
        {{ json_record_field('body_fields', 'customer_external_id') }} as customer_external_id,
        upper({{ json_record_field('body_fields', 'currency') }}) as currency,
        {{ typed_field('invoice', 'date', read_record_field) }} as invoiced_at,
        {{ typed_field('invoice', 'due_date', read_record_field) }} as due_at,
        load_id,
        object_seq
    from parsed
    where {{ unreadable_fields('invoice', read_record_field) }} is null
)

select * from final
