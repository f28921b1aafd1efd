{#- One row per tag of a customer: the tags its source sent and the tags added by hand, less those removed by
    hand; the newest manual edit of a (customer, tag) wins. A merged customer's tags join the survivor's. -#}

with

source_tags as (
    select * from {{ ref('stg_customer_tags') }}
),

edits as (
    select * from {{ ref('stg_manual_edits') }}
    where edit_type in ('tag_add', 'tag_remove')
),

identities as (
    select * from {{ ref('int_customer_identities') }}
),

latest_edits as (
    select
        customer_uuid,
        data_source_uuid,
        customer_external_id,
        tag,
        edit_type
    from (
        select
            *,
            row_number() over (partition by customer_uuid, tag order by edit_seq desc) as recency_rank
        from edits
    ) as ranked
    where recency_rank = 1
),

effective_tags as (
    select
        source_tags.customer_uuid,
        source_tags.data_source_uuid,
        source_tags.customer_external_id,
        source_tags.tag
    from source_tags
    left join latest_edits
        on
            source_tags.customer_uuid = latest_edits.customer_uuid
            and source_tags.tag = latest_edits.tag
    where coalesce(latest_edits.edit_type, 'tag_add') = 'tag_add'
    union
    select
        customer_uuid,
        data_source_uuid,
        customer_external_id,
        tag
    from latest_edits
    where edit_type = 'tag_add'
),

final as (
    select distinct
        identities.reporting_customer_uuid as customer_uuid,
        identities.reporting_data_source_uuid as data_source_uuid,
        identities.reporting_customer_external_id as customer_external_id,
        effective_tags.tag
    from effective_tags
    inner join identities
        on
            effective_tags.data_source_uuid = identities.data_source_uuid
            and effective_tags.customer_external_id = identities.customer_external_id
)

select * from final
