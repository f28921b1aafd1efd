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
        case
            when {{ json_field('attribute_json', 'type') }} = 'Integer'
                then try_cast({{ json_field('attribute_json', 'value') }} as bigint)
        end as value_integer,
        case
            when {{ json_field('attribute_json', 'type') }} = 'Decimal'
                then try_cast({{ json_field('attribute_json', 'value') }} as double)
        end as value_decimal,
        case
            when {{ json_field('attribute_json', 'type') }} = 'Timestamp'
                then try_cast({{ json_field('attribute_json', 'value') }} as {{ dbt.type_timestamp() }})
        end as value_timestamp,
        case
            when {{ json_field('attribute_json', 'type') }} = 'Boolean'
                then try_cast({{ json_field('attribute_json', 'value') }} as boolean)
        end as value_boolean
    from elements
)

select * from final
