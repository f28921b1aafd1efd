{#- One row per custom attribute of a customer: what its source sent, overridden key by key by the newest manual
    edit (SPEC 8: manual edits survive re-syncs). A merged customer's attributes join the survivor's; on the same
    key the survivor's value wins. -#}

with

source_attributes as (
    select * from {{ ref('stg_customer_attributes') }}
),

edits as (
    select * from {{ ref('stg_manual_edits') }}
    where edit_type = 'attribute_set'
),

identities as (
    select * from {{ ref('int_customer_identities') }}
),

latest_edits as (
    select *
    from (
        select
            *,
            row_number() over (partition by customer_uuid, attribute_key order by edit_seq desc) as recency_rank
        from edits
    ) as ranked
    where recency_rank = 1
),

manual_attributes as (
    select
        customer_uuid,
        data_source_uuid,
        customer_external_id,
        attribute_key,
        attribute_type,
        attribute_value as value_text,
        'manual' as attribute_source,
        {{ typed_attribute_values('attribute_type', 'attribute_value') }}
    from latest_edits
),

customer_attributes as (
    select
        source_attributes.customer_uuid,
        source_attributes.data_source_uuid,
        source_attributes.customer_external_id,
        source_attributes.attribute_key,
        source_attributes.attribute_type,
        source_attributes.value_text,
        source_attributes.attribute_source,
        source_attributes.value_integer,
        source_attributes.value_decimal,
        source_attributes.value_timestamp,
        source_attributes.value_boolean
    from source_attributes
    left join manual_attributes
        on
            source_attributes.customer_uuid = manual_attributes.customer_uuid
            and source_attributes.attribute_key = manual_attributes.attribute_key
    where manual_attributes.attribute_key is null
    union all
    select
        customer_uuid,
        data_source_uuid,
        customer_external_id,
        attribute_key,
        attribute_type,
        value_text,
        attribute_source,
        value_integer,
        value_decimal,
        value_timestamp,
        value_boolean
    from manual_attributes
),

merged as (
    select
        customer_attributes.*,
        identities.reporting_customer_uuid,
        identities.reporting_data_source_uuid,
        identities.reporting_customer_external_id,
        -- on the same key, the survivor's own value wins over a merged customer's
        row_number() over (
            partition by identities.reporting_customer_uuid, customer_attributes.attribute_key
            order by identities.is_merged
        ) as key_rank
    from customer_attributes
    inner join identities
        on
            customer_attributes.data_source_uuid = identities.data_source_uuid
            and customer_attributes.customer_external_id = identities.customer_external_id
),

final as (
    select
        reporting_customer_uuid as customer_uuid,
        reporting_data_source_uuid as data_source_uuid,
        reporting_customer_external_id as customer_external_id,
        attribute_key,
        attribute_type,
        value_text,
        attribute_source,
        value_integer,
        value_decimal,
        value_timestamp,
        value_boolean
    from merged
    where key_rank = 1
)

select * from final
