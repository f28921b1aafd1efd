{#- One row per custom attribute of a customer (attributes.custom: [{type, key, value, source}]), with the
    value cast by its declared type (SPEC 7: String, Integer, Decimal, Timestamp, Boolean). -#}

with

customers as (
    select * from {{ ref('stg_customers') }}
),

elements as (
    select
        customer_uuid,
        data_source_uuid,
        customer_external_id,
        {{ json_array_elements('attributes', 'custom') }} as attribute_json
    from customers
    where attributes is not null
),

final as (
    select
        customer_uuid,
        data_source_uuid,
        customer_external_id,
        {{ json_field('attribute_json', 'key') }} as attribute_key,
        coalesce({{ json_field('attribute_json', 'type') }}, 'String') as attribute_type,
        {{ json_field('attribute_json', 'value') }} as value_text,
        {{ json_field('attribute_json', 'source') }} as attribute_source,
        {{ typed_attribute_values(json_field('attribute_json', 'type'), json_field('attribute_json', 'value')) }}
    from elements
)

select * from final
