{#- One row per tag of a customer (attributes.tags). -#}

with

customers as (
    select * from {{ ref('stg_customers') }}
),

final as (
    select distinct
        customer_uuid,
        data_source_uuid,
        customer_external_id,
        {{ json_string_array_elements(json_value('attributes', 'tags')) }} as tag
    from customers
    where attributes is not null
)

select * from final
