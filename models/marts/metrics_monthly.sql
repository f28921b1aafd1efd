with

customer_months as (
    select * from {{ ref('customer_mrr_monthly') }}
),

months as (
    {{ month_spine('(select min(month) from customer_months)', as_of_date()) }}
),

monthly as (
    select
        month,
        sum(ending_mrr_in_cents) as mrr,
        count(distinct case when ending_mrr_in_cents > 0 then customer_uuid end) as customers,
        {% for movement_type in ['new_business', 'expansion', 'contraction', 'churn', 'reactivation'] %}
            sum(mrr_{{ movement_type }}_in_cents) as mrr_{{ movement_type }},
        {% endfor %}
        sum(starting_mrr_in_cents) as starting_mrr
    from customer_months
    group by month
),

final as (
    select
        months.month,
        coalesce(monthly.starting_mrr, 0) as starting_mrr,
        coalesce(monthly.mrr, 0) as mrr,
        coalesce(monthly.mrr, 0) * 12 as arr,
        coalesce(monthly.customers, 0) as customers,
        case when monthly.customers > 0 then monthly.mrr / monthly.customers end as arpa,
        {% for movement_type in ['new_business', 'expansion', 'contraction', 'churn', 'reactivation'] %}
            coalesce(monthly.mrr_{{ movement_type }}, 0) as mrr_{{ movement_type }},
        {% endfor %}
    from months
    left join monthly
        on months.month = monthly.month
)

select * from final
