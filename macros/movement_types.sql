{#- The movement types of SPEC 4, in the order the marts show their columns (mrr_<type>_in_cents, has_<type>,
    mrr_<type>). The one home of the list: models loop over it, the accepted_values test of mrr_movements reads
    it, and src/mrr_warehouse/report_queries.py is checked against it (tests/python/test_movement_types.py). -#}
{% macro movement_types() %}
    {{ return(['new_business', 'expansion', 'contraction', 'churn', 'reactivation']) }}
{% endmacro %}
