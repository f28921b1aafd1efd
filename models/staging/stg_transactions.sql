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
        {{ parse_timestamp(json_record_field('body_fields', 'date')) }} as transacted_at,
        cast({{ json_record_field('body_fields', 'amount_in_cents') }} as bigint) as amount_in_cents,
        load_id,
        object_seq
    from parsed
)

select * from final
