{#- MRR carries fractions of a cent until presentation (SPEC conventions). A fixed-point decimal keeps sums
    exact, so movements add up to the MRR change to the last digit and the bridge tests can demand equality. -#}
{% macro type_mrr() -%}
    decimal(38, 8)
{%- endmacro %}
