{#- One row per (publication date, currency) from the ECB seed's wide layout, plus EUR at 1.0. -#}
{%- set currency_columns = [] -%}
{%- if execute -%}
    {%- for column in adapter.get_columns_in_relation(ref('exchange_rates')) -%}
        {%- if column.name | lower != 'rate_date' -%}{%- do currency_columns.append(column.name | lower) -%}{%- endif -%}
    {%- endfor -%}
{%- endif -%}

with

exchange_rates as (
    select * from {{ ref('exchange_rates') }}
),

final as (
    select
        rate_date,
        'EUR' as currency,
        1.0 as units_per_eur
    from exchange_rates
    {% for currency in currency_columns %}
        union all
        select
            rate_date,
            '{{ currency | upper }}' as currency,
            {{ adapter.quote(currency) }} as units_per_eur
        from exchange_rates
        where {{ adapter.quote(currency) }} is not null
    {% endfor %}
)

select * from final
