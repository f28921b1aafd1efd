with

customer_months as (
    select * from {{ ref('customer_mrr_monthly') }}
),

transactions as (
    select * from {{ ref('transactions') }}
),

first_months as (
    select min(month) as first_month from customer_months
    union all
    select min(transaction_month) as first_month from transactions
),

months as (
    {{ month_spine('(select min(first_month) from first_months)', as_of_date()) }}
),

monthly_mrr as (
    select
        month,
        sum(starting_mrr_in_cents) as starting_mrr,
        sum(ending_mrr_in_cents) as mrr,
        {% for movement_type in ['new_business', 'expansion', 'contraction', 'churn', 'reactivation'] %}
            sum(mrr_{{ movement_type }}_in_cents) as mrr_{{ movement_type }},
        {% endfor %}
        count(distinct case when ending_mrr_in_cents > 0 then customer_uuid end) as customers
    from customer_months
    group by month
),

monthly_cash as (
    select
        transaction_month as month,
        cast(sum(case when is_successful_payment then amount_in_cents else 0 end) as bigint) as gross_cash_flow,
        cast(sum(case when is_successful_refund then amount_in_cents else 0 end) as bigint) as refunds,
        sum(case when is_successful_payment then non_recurring_amount_in_cents else 0 end)
            as non_recurring_cash_flow,
        count(distinct case when transaction_result = 'failed' then customer_uuid end) as failed_transactions
    from (
        select
            *,
            transaction_type = 'payment' and transaction_result = 'successful' as is_successful_payment,
            transaction_type = 'refund' and transaction_result = 'successful' as is_successful_refund
        from transactions
    ) as typed_transactions
    group by transaction_month
),

final as (
    select
        months.month,
        coalesce(monthly_mrr.starting_mrr, 0) as starting_mrr,
        coalesce(monthly_mrr.mrr, 0) as mrr,
        coalesce(monthly_mrr.mrr, 0) * 12 as arr,
        coalesce(monthly_mrr.customers, 0) as customers,
        case when monthly_mrr.customers > 0 then monthly_mrr.mrr / monthly_mrr.customers end as arpa,
        {% for movement_type in ['new_business', 'expansion', 'contraction', 'churn', 'reactivation'] %}
            coalesce(monthly_mrr.mrr_{{ movement_type }}, 0) as mrr_{{ movement_type }},
        {% endfor %}
        coalesce(monthly_cash.gross_cash_flow, 0) as gross_cash_flow,
        coalesce(monthly_cash.refunds, 0) as refunds,
        coalesce(monthly_cash.gross_cash_flow, 0) - coalesce(monthly_cash.refunds, 0) as net_cash_flow,
        coalesce(monthly_cash.non_recurring_cash_flow, 0) as non_recurring_cash_flow,
        coalesce(monthly_cash.failed_transactions, 0) as failed_transactions
    from months
    left join monthly_mrr
        on months.month = monthly_mrr.month
    left join monthly_cash
        on months.month = monthly_cash.month
)

select * from final
