with

merge_history as (
    select * from {{ source('raw', 'customer_merges') }}
),

final as (
    select
        merge_seq,
        data_source_uuid,
        customer_external_id,
        into_data_source_uuid,
        into_customer_external_id,
        is_unmerge,
        created_at
    from merge_history
)

select * from final
