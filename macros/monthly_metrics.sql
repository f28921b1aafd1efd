{#- The monthly SaaS metrics (SPEC 5), for the whole business (metrics_monthly) or per value of partition_by
    (metrics_monthly_by_source: per data source). One definition for both, so the per-source numbers the report
    shows cannot drift from the totals. Months run from the first with MRR or a transaction to the as-of month;
    with partition_by, every partition gets every month. -#}
{% macro monthly_metrics(partition_by=[]) -%}
{%- set window_partition = ('partition by ' ~ (partition_by | join(', '))) if partition_by else '' -%}
{%- set grouping = (partition_by | join(', ') ~ ', ') if partition_by else '' -%}

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

partitions as (
    {%- if partition_by %}
        select {{ partition_by | join(', ') }} from customer_months
        union
        select {{ partition_by | join(', ') }} from transactions
    {%- else %}
        select 1 as whole_business
    {%- endif %}
),

grid as (
    select
        partitions.*,
        months.month
    from partitions
    cross join months
),

monthly_mrr as (
    select
        {{ grouping }}month,
        sum(starting_mrr_in_cents) as starting_mrr,
        sum(ending_mrr_in_cents) as mrr,
        {% for movement_type in movement_types() %}
            sum(mrr_{{ movement_type }}_in_cents) as mrr_{{ movement_type }},
        {% endfor %}
        sum(fx_adjustment_in_cents) as fx_adjustment,
        count(distinct case when ending_mrr_in_cents > 0 then customer_uuid end) as customers,
        count(distinct case when has_new_business then customer_uuid end) as new_customers,
        count(distinct case when has_churn then customer_uuid end) as churned_customers,
        count(distinct case when has_reactivation then customer_uuid end) as reactivated_customers,
        -- SPEC 5: churned in the month, less those who also joined in it or churned and came back in it
        count(distinct case
            when has_churn and not has_new_business and not has_reactivation then customer_uuid
        end) as net_churned_customers
    from customer_months
    group by {{ grouping }}month
),

monthly_cash as (
    select
        {{ grouping }}transaction_month as month,
        sum(case when is_successful_payment then amount_in_cents else 0 end) as gross_cash_flow,
        sum(case when is_successful_refund then amount_in_cents else 0 end) as refunds,
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
    group by {{ grouping }}transaction_month
),

monthly as (
    select
        {% for column in partition_by %}grid.{{ column }}, {% endfor %}
        grid.month,
        coalesce(monthly_mrr.starting_mrr, 0) as starting_mrr,
        coalesce(monthly_mrr.mrr, 0) as mrr,
        coalesce(monthly_mrr.customers, 0) as customers,
        coalesce(
            lag(monthly_mrr.customers) over (
                {% if partition_by %}partition by {% for column in partition_by %}grid.{{ column }}{{ ', ' if not loop.last }}{% endfor %}{% endif %}
                order by grid.month
            ),
            0
        ) as starting_customers,
        coalesce(monthly_mrr.new_customers, 0) as new_customers,
        coalesce(monthly_mrr.churned_customers, 0) as churned_customers,
        coalesce(monthly_mrr.reactivated_customers, 0) as reactivated_customers,
        coalesce(monthly_mrr.net_churned_customers, 0) as net_churned_customers,
        {% for movement_type in movement_types() %}
            coalesce(monthly_mrr.mrr_{{ movement_type }}, 0) as mrr_{{ movement_type }},
        {% endfor %}
        coalesce(monthly_mrr.fx_adjustment, 0) as fx_adjustment,
        coalesce(monthly_cash.gross_cash_flow, 0) as gross_cash_flow,
        coalesce(monthly_cash.refunds, 0) as refunds,
        coalesce(monthly_cash.non_recurring_cash_flow, 0) as non_recurring_cash_flow,
        coalesce(monthly_cash.failed_transactions, 0) as failed_transactions
    from grid
    left join monthly_mrr
        on
            grid.month = monthly_mrr.month
            {% for column in partition_by %}and grid.{{ column }} = monthly_mrr.{{ column }}{% endfor %}
    left join monthly_cash
        on
            grid.month = monthly_cash.month
            {% for column in partition_by %}and grid.{{ column }} = monthly_cash.{{ column }}{% endfor %}
),

-- Rates are percentages, as in ChartMogul's metrics API. Churn and contraction are negative amounts here.
rates as (
    select
        *,
        case
            when starting_customers > 0 then 100.0 * net_churned_customers / starting_customers
        end as customer_churn_rate,
        case
            when starting_mrr > 0
                then 100.0 * (-mrr_churn - mrr_contraction - mrr_expansion - mrr_reactivation) / starting_mrr
        end as mrr_churn_rate,
        case
            when starting_mrr > 0 then 100.0 * (-mrr_churn - mrr_contraction) / starting_mrr
        end as gross_mrr_churn_rate
    from monthly
),

final as (
    select
        {{ grouping }}month,
        starting_mrr,
        mrr,
        mrr * 12 as arr,
        customers,
        case when customers > 0 then mrr / customers end as arpa,
        case when new_customers > 0 then mrr_new_business / new_customers end as asp,
        {% for movement_type in movement_types() %}
            mrr_{{ movement_type }},
        {% endfor %}
        fx_adjustment,
        new_customers,
        churned_customers,
        reactivated_customers,
        customer_churn_rate,
        mrr_churn_rate,
        gross_mrr_churn_rate,
        -- LTV = ARPA / average customer churn rate of the six previous months (fewer at the start of the
        -- series); null when that average is 0 or unknown.
        case when customers > 0 then mrr / customers end
        / nullif(avg(customer_churn_rate) over (
            {{ window_partition }}
            order by month rows between 6 preceding and 1 preceding
        ) / 100.0, 0) as ltv,
        gross_cash_flow,
        refunds,
        gross_cash_flow - refunds as net_cash_flow,
        non_recurring_cash_flow,
        failed_transactions
    from rates
)

select * from final
{%- endmacro %}
