{#- Cohorts (D34): a customer's cohort is its first paid month (the first month of its customer_mrr_monthly
    series); gross retained MRR caps each customer at its own MRR at the end of that month. For the whole
    business (cohorts_monthly) or per value of partition_by (cohorts_monthly_by_source): one definition for both.
    A customer belongs to one data source, so its cohort is the same in both. -#}
{% macro monthly_cohorts(partition_by=[]) -%}
{%- set grouping = (partition_by | join(', ') ~ ', ') if partition_by else '' -%}

with

customer_months as (
    select * from {{ ref('customer_mrr_monthly') }}
),

cohort_members as (
    select
        {{ grouping }}customer_uuid,
        min(month) as cohort_month
    from customer_months
    group by {{ grouping }}customer_uuid
),

members_at_start as (
    select
        {% for column in partition_by %}cohort_members.{{ column }}, {% endfor %}
        cohort_members.customer_uuid,
        cohort_members.cohort_month,
        customer_months.ending_mrr_in_cents as mrr_at_start_in_cents
    from cohort_members
    inner join customer_months
        on
            cohort_members.customer_uuid = customer_months.customer_uuid
            and cohort_members.cohort_month = customer_months.month
),

cohorts as (
    select
        {{ grouping }}cohort_month,
        count(*) as customers_at_start,
        sum(mrr_at_start_in_cents) as mrr_at_start_in_cents
    from members_at_start
    group by {{ grouping }}cohort_month
),

member_months as (
    select
        {% for column in partition_by %}members_at_start.{{ column }}, {% endfor %}
        members_at_start.cohort_month,
        customer_months.month,
        customer_months.customer_uuid,
        customer_months.ending_mrr_in_cents,
        case
            when customer_months.ending_mrr_in_cents < members_at_start.mrr_at_start_in_cents
                then customer_months.ending_mrr_in_cents
            else members_at_start.mrr_at_start_in_cents
        end as capped_mrr_in_cents
    from members_at_start
    inner join customer_months
        on members_at_start.customer_uuid = customer_months.customer_uuid
),

retained as (
    select
        {{ grouping }}cohort_month,
        month,
        count(case when ending_mrr_in_cents > 0 then customer_uuid end) as customers_retained,
        sum(ending_mrr_in_cents) as net_mrr_retained_in_cents,
        sum(capped_mrr_in_cents) as gross_mrr_retained_in_cents
    from member_months
    group by {{ grouping }}cohort_month, month
),

-- Rates are percentages, as in metrics_monthly.
final as (
    select
        {% for column in partition_by %}retained.{{ column }}, {% endfor %}
        retained.cohort_month,
        cast(
            12 * (extract(year from retained.month) - extract(year from retained.cohort_month))
            + extract(month from retained.month) - extract(month from retained.cohort_month)
            as integer
        ) as month_number,
        retained.month,
        cohorts.customers_at_start,
        retained.customers_retained,
        cohorts.mrr_at_start_in_cents,
        retained.net_mrr_retained_in_cents,
        retained.gross_mrr_retained_in_cents,
        100.0 * retained.customers_retained / cohorts.customers_at_start as customer_retention_rate,
        case
            when cohorts.mrr_at_start_in_cents > 0
                then 100.0 * retained.net_mrr_retained_in_cents / cohorts.mrr_at_start_in_cents
        end as net_mrr_retention_rate,
        case
            when cohorts.mrr_at_start_in_cents > 0
                then 100.0 * retained.gross_mrr_retained_in_cents / cohorts.mrr_at_start_in_cents
        end as gross_mrr_retention_rate
    from retained
    inner join cohorts
        on
            retained.cohort_month = cohorts.cohort_month
            {% for column in partition_by %}and retained.{{ column }} = cohorts.{{ column }}{% endfor %}
)

select * from final
{%- endmacro %}
