{#- Grain: one row per customer (as it reports, after merges) per month, from its first month with a movement to
    the as-of month. Incremental (D47): the customers in the build scope are recomputed; every other customer's
    months after the last build's as-of month are carried forward from its last month, with its MRR unchanged and
    no movement, which is what a full build gives a customer with no change in those months. -#}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    pre_hook="{{ delete_build_scope('customer_uuid') }}",
) }}
-- depends_on: {{ ref('int_build_scope') }}

with

customer_changes as (
    {{ select_in_build_scope('int_customer_mrr_changes', 'customer') }}
),

changes as (
    select
        *,
        {{ deterministic_uuid('cus', ['data_source_uuid', "'customer'", 'customer_external_id']) }} as customer_uuid,
        cast({{ dbt.date_trunc('month', 'changed_at') }} as date) as month
    from customer_changes
),

monthly_movements as (
    select
        data_source_uuid,
        customer_uuid,
        customer_external_id,
        month,
        {% for movement_type in movement_types() %}
            sum(case when movement_type = '{{ movement_type }}' then mrr_change_in_cents else 0 end)
                as mrr_{{ movement_type }}_in_cents,
            max(case when movement_type = '{{ movement_type }}' then 1 else 0 end) = 1 as has_{{ movement_type }},
        {% endfor %}
        sum(fx_adjustment_in_cents) as fx_adjustment_in_cents,
        sum(mrr_change_in_cents + fx_adjustment_in_cents) as mrr_change_in_cents,
        max(case when movement_type is not null then 1 else 0 end) = 1 as has_movement
    from changes
    group by data_source_uuid, customer_uuid, customer_external_id, month
),

customer_first_months as (
    select
        data_source_uuid,
        customer_uuid,
        customer_external_id,
        min(month) as first_month
    from monthly_movements
    where has_movement
    group by data_source_uuid, customer_uuid, customer_external_id
),

months as (
    {{ month_spine('(select min(first_month) from customer_first_months)', as_of_date()) }}
),

customer_months as (
    select
        customer_first_months.data_source_uuid,
        customer_first_months.customer_uuid,
        customer_first_months.customer_external_id,
        months.month
    from customer_first_months
    inner join months
        on customer_first_months.first_month <= months.month
),

final as (
    select
        customer_months.month,
        customer_months.customer_uuid,
        customer_months.customer_external_id,
        customer_months.data_source_uuid,
        sum(coalesce(monthly_movements.mrr_change_in_cents, 0)) over customer_history
        - coalesce(monthly_movements.mrr_change_in_cents, 0) as starting_mrr_in_cents,
        {% for movement_type in movement_types() %}
            coalesce(monthly_movements.mrr_{{ movement_type }}_in_cents, 0) as mrr_{{ movement_type }}_in_cents,
        {% endfor %}
        coalesce(monthly_movements.fx_adjustment_in_cents, 0) as fx_adjustment_in_cents,
        {% for movement_type in movement_types() %}
            coalesce(monthly_movements.has_{{ movement_type }}, false) as has_{{ movement_type }},
        {% endfor %}
        sum(coalesce(monthly_movements.mrr_change_in_cents, 0)) over customer_history as ending_mrr_in_cents
    from customer_months
    left join monthly_movements
        on
            customer_months.customer_uuid = monthly_movements.customer_uuid
            and customer_months.month = monthly_movements.month
    window customer_history as (
        partition by customer_months.customer_uuid
        order by customer_months.month
        rows between unbounded preceding and current row
    )
),

-- After the pre-hook, the table holds the customers outside the scope, each up to the last build's as-of month.
carried as (
    {% if is_incremental() %}
        select
            months_since.month,
            last_months.customer_uuid,
            last_months.customer_external_id,
            last_months.data_source_uuid,
            last_months.ending_mrr_in_cents as starting_mrr_in_cents,
            {% for movement_type in movement_types() %}
                cast(0 as {{ type_mrr() }}) as mrr_{{ movement_type }}_in_cents,
            {% endfor %}
            cast(0 as {{ type_mrr() }}) as fx_adjustment_in_cents,
            {% for movement_type in movement_types() %}
                false as has_{{ movement_type }},
            {% endfor %}
            last_months.ending_mrr_in_cents
        from {{ this }} as last_months
        inner join (
            {{ month_spine(dbt.dateadd('month', 1, '(select max(month) from ' ~ this ~ ')'), as_of_date()) }}
        ) as months_since
            on last_months.month < months_since.month
        where last_months.month = (select max(built.month) from {{ this }} as built)
    {% else %}
        select * from final
        where false
    {% endif %}
),

all_months as (
    select * from final
    union all
    select * from carried
)

-- carried has final's columns in final's order
select * from all_months  -- noqa: AM04
