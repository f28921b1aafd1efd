{#- dbt-spark's dateadd goes through Unix seconds and a cast back to a timestamp, which loses the day under
    TIMESTAMP_NTZ (every comparison with the reporting cutoff came out false). timestampadd adds calendar units to
    the timestamp itself, months clamped to the month's last day as in DuckDB (docs/decisions.md D43). -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, cast({{ from_date_or_timestamp }} as timestamp))
{%- endmacro %}
