-- The MRR bridge links months: each month starts where the previous one ended, per customer and in total
-- (SPEC 4). Returns every month where it does not.
with

customer_months as (
    select * from {{ ref('customer_mrr_monthly') }}
),

metrics as (
    select * from {{ ref('metrics_monthly') }}
),

customer_breaks as (
    select
        'customer ' || customer_external_id as scope,
        month,
        starting_mrr_in_cents as starting_mrr,
        lag(ending_mrr_in_cents, 1, 0) over (partition by customer_uuid order by month) as previous_ending_mrr
    from customer_months
),

total_breaks as (
    select
        'total' as scope,
        month,
        starting_mrr,
        lag(mrr, 1, 0) over (order by month) as previous_ending_mrr
    from metrics
),

final as (
    select * from customer_breaks
    union all
    select * from total_breaks
)

select * from final
where starting_mrr <> previous_ending_mrr
