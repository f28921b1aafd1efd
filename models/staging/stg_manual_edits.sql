with

edits as (
    select * from {{ source('raw', 'manual_edits') }}
),

final as (
    select
        edit_seq,
        data_source_uuid,
        customer_external_id,
        {{ deterministic_uuid('cus', ['data_source_uuid', "'customer'", 'customer_external_id']) }} as customer_uuid,
        edit_type,
        tag,
        attribute_key,
        attribute_type,
        attribute_value,
        created_at
    from edits
)

select * from final
