with

attributes as (
    select * from {{ ref('int_customer_attributes') }}
),

final as (
    select
        customer_uuid,
        data_source_uuid,
        customer_external_id,
        attribute_key,
        attribute_type,
        attribute_source,
        value_text,
        value_integer,
        value_decimal,
        value_timestamp,
        value_boolean
    from attributes
)

select * from final
