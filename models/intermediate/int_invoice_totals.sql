with

line_items as (
    select * from {{ ref('stg_line_items') }}
),

final as (
    select
        data_source_uuid,
        invoice_external_id,
        sum(amount_in_cents) as total_in_cents,
        sum(case when line_item_type = 'one_time' then amount_in_cents else 0 end) as one_time_total_in_cents
    from line_items
    group by data_source_uuid, invoice_external_id
)

select * from final
