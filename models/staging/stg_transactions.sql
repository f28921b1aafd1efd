{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ prune_replaced_objects('transaction') }}",
) }}
{%- set fields = ['external_id', 'type', 'result', 'date', 'amount_in_cents'] %}

with

objects as (
    {{ immutable_objects('transaction') }}
),

parsed as (
    select
        *,
        {{ json_record('body', fields) }} as body_fields
    from objects
),

final as (
    select
        {{ deterministic_uuid('tr', ['data_source_uuid', "'transaction'", 'external_id']) }} as transaction_uuid,
        data_source_uuid,
        external_id as transaction_key,
        invoice_external_id,
        {{ json_record_field('body_fields', 'external_id') }} as transaction_external_id,
        {{ json_record_field('body_fields', 'type') }} as transaction_type,
        {{ json_record_field('body_fields', 'result') }} as transaction_result,
        {{ typed_field('transaction', 'date', read_record_field) }} as transacted_at,
        {{ typed_field('transaction', 'amount_in_cents', read_record_field) }} as amount_in_cents,
        load_id,
        object_seq
    from parsed
    where {{ unreadable_fields('transaction', read_record_field) }} is null
)

select * from final
