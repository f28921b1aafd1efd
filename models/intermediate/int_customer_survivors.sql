{#- One row per customer that is merged into another (SPEC 8): the customer that survives. A merge into a customer
    that was itself merged follows the chain (up to three merges deep); the newest merge or unmerge of a customer
    decides. -#}

with

merge_history as (
    select * from {{ ref('stg_customer_merges') }}
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

final as (
    select
        first_merge.data_source_uuid,
        first_merge.customer_external_id,
        coalesce(
            third_merge.into_data_source_uuid,
            second_merge.into_data_source_uuid,
            first_merge.into_data_source_uuid
        ) as survivor_data_source_uuid,
        coalesce(
            third_merge.into_customer_external_id,
            second_merge.into_customer_external_id,
            first_merge.into_customer_external_id
        ) as survivor_customer_external_id
    from active_merges as first_merge
    left join active_merges as second_merge
        on
            first_merge.into_data_source_uuid = second_merge.data_source_uuid
            and first_merge.into_customer_external_id = second_merge.customer_external_id
    left join active_merges as third_merge
        on
            second_merge.into_data_source_uuid = third_merge.data_source_uuid
            and second_merge.into_customer_external_id = third_merge.customer_external_id
)

select * from final
