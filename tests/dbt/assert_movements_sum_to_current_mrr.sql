-- Every customer's movements and fx adjustments add up to its current MRR: the sum of its subscriptions' MRR
-- at the as-of date.
with

customer_changes as (
    select * from {{ ref('int_customer_mrr_changes') }}
),

subscriptions as (
    select * from {{ ref('subscriptions') }}
),

movement_totals as (
    select
        {{ deterministic_uuid('cus', ['data_source_uuid', "'customer'", 'customer_external_id']) }} as customer_uuid,
        sum(mrr_change_in_cents + fx_adjustment_in_cents) as movements_total
    from customer_changes
    group by data_source_uuid, customer_external_id
),

subscription_totals as (
    select
        customer_uuid,
        sum(mrr_in_cents) as current_mrr
    from subscriptions
    group by customer_uuid
),

final as (
    select
        coalesce(movement_totals.customer_uuid, subscription_totals.customer_uuid) as customer_uuid,
        coalesce(movement_totals.movements_total, 0) as movements_total,
        coalesce(subscription_totals.current_mrr, 0) as current_mrr
    from movement_totals
    full outer join subscription_totals
        on movement_totals.customer_uuid = subscription_totals.customer_uuid
)

select * from final
where movements_total <> current_mrr
