{#- Fails with every row for which the expression is not true (dbt_utils.expression_is_true, written here
    because the dbt package hub is out of reach). -#}
{% test expression_is_true(model, expression, column_name=none) %}
select *
from {{ model }}
where
    not coalesce({{ expression }}, false)
{% endtest %}
