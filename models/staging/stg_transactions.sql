with

objects as (
    select * from {{ source('raw', 'objects') }}
    where object_type = 'transaction'
),

versions as (
    select
        *,
        row_number() over (
            partition by data_source_uuid, external_id order by object_seq
        ) as version_rank
    from objects
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
    from versions
    where version_rank = 1
)

select * from final
