{#- Months in a plan interval (SPEC 3.1): month -> n, year -> 12n, day -> n / days_per_month. -#}
{% macro months_in_plan_interval(interval_unit, interval_count) -%}
    case {{ interval_unit }}
        when 'month' then cast({{ interval_count }} as double)
        when 'year' then 12.0 * {{ interval_count }}
        when 'day' then {{ interval_count }} / cast({{ project_var('days_per_month') }} as double)
    end
{%- endmacro %}

{#- Start of the plan interval that ends at period_end (SPEC 3.2 `full_period`). -#}
{% macro plan_interval_start(interval_unit, interval_count, period_end) -%}
    case {{ interval_unit }}
        when 'month' then {{ dbt.dateadd('month', '-1 * ' ~ interval_count, period_end) }}
        when 'year' then {{ dbt.dateadd('year', '-1 * ' ~ interval_count, period_end) }}
        when 'day' then {{ dbt.dateadd('day', '-1 * ' ~ interval_count, period_end) }}
    end
{%- endmacro %}
