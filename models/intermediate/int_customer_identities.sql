{#- Grain: one row per customer named anywhere in the landed data (its record, which carries its tags and custom
    attributes; invoices, subscription events, contacts, manual edits, merges): the customer it reports as. That is itself, or after
    a merge the customer it was merged into, following a chain up to three merges deep; the newest merge or
    unmerge of a customer decides (SPEC 8, D23). Every model that names a customer joins this one (inner join:
    the set is complete by construction), so the survivor rule lives here alone. -#}

with

merge_history as (
    select * from {{ ref('stg_customer_merges') }}
),

named_customers as (
    select
        data_source_uuid,
        customer_external_id
    from {{ ref('stg_customers') }}
    union
    select
        data_source_uuid,
        customer_external_id
    from {{ ref('stg_invoices') }}
    union
    select
        data_source_uuid,
        customer_external_id
    from {{ ref('stg_subscription_events') }}
    union
    select
        data_source_uuid,
        customer_external_id
    from {{ ref('stg_contacts') }}
    union
    select
        data_source_uuid,
        customer_external_id
    from {{ ref('stg_manual_edits') }}
    union
    select
        data_source_uuid,
        customer_external_id
    from merge_history
    union
    select
        into_data_source_uuid,
        into_customer_external_id
    from merge_history
),

active_merges as (
    select
        data_source_uuid,
        customer_external_id,
        into_data_source_uuid,
        into_customer_external_id
    from (
        select
            *,
            row_number() over (
                partition by data_source_uuid, customer_external_id order by merge_seq desc
            ) as recency_rank
        from merge_history
    ) as ranked
    where recency_rank = 1 and not is_unmerge
),

resolved as (
    select
        named_customers.data_source_uuid,
        named_customers.customer_external_id,
        coalesce(
            third_merge.into_data_source_uuid,
            second_merge.into_data_source_uuid,
            first_merge.into_data_source_uuid,
            named_customers.data_source_uuid
        ) as reporting_data_source_uuid,
        coalesce(
            third_merge.into_customer_external_id,
            second_merge.into_customer_external_id,
            first_merge.into_customer_external_id,
            named_customers.customer_external_id
        ) as reporting_customer_external_id,
        first_merge.customer_external_id is not null as is_merged
    from named_customers
    left join active_merges as first_merge
        on
            named_customers.data_source_uuid = first_merge.data_source_uuid
            and named_customers.customer_external_id = first_merge.customer_external_id
    left join active_merges as second_merge
        on
            first_merge.into_data_source_uuid = second_merge.data_source_uuid
            and first_merge.into_customer_external_id = second_merge.customer_external_id
    left join active_merges as third_merge
        on
            second_merge.into_data_source_uuid = third_merge.data_source_uuid
            and second_merge.into_customer_external_id = third_merge.customer_external_id
    where named_customers.customer_external_id is not null
),

final as (
    select
        data_source_uuid,
        customer_external_id,
        reporting_data_source_uuid,
        reporting_customer_external_id,
        is_merged,
        {{ deterministic_uuid('cus', ['reporting_data_source_uuid', "'customer'", 'reporting_customer_external_id']) }}
            as reporting_customer_uuid
    from resolved
)

select * from final
