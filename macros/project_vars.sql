{#- The project's vars (dbt_project.yml, README "Vars"): the one place that knows what a valid value of each is.
    Models read a var through project_var(name), so a bad value stops the build while it is parsed, with a message
    naming the var, instead of as a cast error deep in some model (or, worse, as a silently different number). The
    on-run-start hook checks every var, so a bad value is refused even when no model that reads it is selected. -#}

{#- Each var and the macro that checks its value: the one list of the project's vars. -#}
{% macro _var_checks() -%}
    {{ return({
        'as_of_date': _checked_date,
        'days_per_month': _checked_positive_number,
        'past_due_auto_churn_days': _checked_optional_days,
        'smart_grouping_minutes': _checked_non_negative_number,
        'free_downgrade_is_churn': _checked_boolean,
        'subscription_events_drive_mrr': _checked_boolean,
        'deduct_transaction_fees': _checked_boolean,
        'reporting_currency': _checked_currency_code,
    }) }}
{%- endmacro %}

{% macro project_var(name) -%}
    {%- set checks = _var_checks() -%}
    {%- if name not in checks -%}
        {{ exceptions.raise_compiler_error("project_var: '" ~ name ~ "' is not one of the project's vars") }}
    {%- endif -%}
    {{ return(checks[name](name, var(name))) }}
{%- endmacro %}

{% macro validate_project_vars() -%}
    {%- for name in _var_checks() -%}
        {%- do project_var(name) -%}
    {%- endfor -%}
    {%- if execute -%}{%- do _check_reporting_currency_has_rates() -%}{%- endif -%}
{%- endmacro %}

{% macro _invalid_var(name, value, expected) -%}
    {{ exceptions.raise_compiler_error(
        "var " ~ name ~ ": expected " ~ expected ~ ", got " ~ tojson(value | string)
        ~ " (see README, Vars)"
    ) }}
{%- endmacro %}

{#- YAML gives numbers, booleans and (unquoted) dates their own types; booleans are numbers to Python, so they
    are refused explicitly where a number is expected. -#}
{% macro _is_number(value) -%}
    {{ return(value is number and value is not boolean) }}
{%- endmacro %}

{% macro _checked_positive_number(name, value) -%}
    {%- if not _is_number(value) or value <= 0 -%}{{ _invalid_var(name, value, "a number above 0") }}{%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro _checked_non_negative_number(name, value) -%}
    {%- if not _is_number(value) or value < 0 -%}
        {{ _invalid_var(name, value, "a number of minutes, 0 or more (0 turns it off)") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro _checked_optional_days(name, value) -%}
    {%- if value is not none and (not _is_number(value) or value < 0 or value != value | int) -%}
        {{ _invalid_var(name, value, "null (never) or a whole number of days, 0 or more") }}
    {%- endif -%}
    {{ return(none if value is none else value | int) }}
{%- endmacro %}

{% macro _checked_boolean(name, value) -%}
    {%- if value is not boolean -%}{{ _invalid_var(name, value, "true or false") }}{%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{% macro _checked_currency_code(name, value) -%}
    {%- if value is not string or not modules.re.fullmatch('[A-Z]{3}', value) -%}
        {{ _invalid_var(name, value, "an ISO 4217 code in capitals, such as USD") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- null means today. A date is YYYY-MM-DD and must exist on the calendar. -#}
{% macro _checked_date(name, value) -%}
    {%- if value is none -%}{{ return(none) }}{%- endif -%}
    {%- set text = value | string -%}
    {%- set parts = modules.re.fullmatch('([0-9]{4})-([0-9]{2})-([0-9]{2})', text) -%}
    {%- if not parts -%}{{ _invalid_var(name, value, "null (today) or a date YYYY-MM-DD") }}{%- endif -%}
    {%- set year, month, day = parts.group(1) | int, parts.group(2) | int, parts.group(3) | int -%}
    {%- set is_leap = (year % 4 == 0 and year % 100 != 0) or year % 400 == 0 -%}
    {%- set month_days = [31, 29 if is_leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
    {%- if year < 1 or month < 1 or month > 12 or day < 1 or day > month_days[month - 1] -%}
        {{ _invalid_var(name, value, "a date that exists, YYYY-MM-DD") }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}

{#- Only currencies the exchange-rate seed has (or EUR, its base) can be reported in. On the very first build the
    seed is not loaded yet; assert_exchange_rates_exist names the currency then. -#}
{% macro _check_reporting_currency_has_rates() -%}
    {%- set currency = project_var('reporting_currency') -%}
    {%- set seed = graph.nodes.values() | selectattr('resource_type', 'equalto', 'seed')
        | selectattr('name', 'equalto', 'exchange_rates') | first -%}
    {%- set relation = adapter.get_relation(database=seed.database, schema=seed.schema, identifier=seed.alias) -%}
    {%- if currency != 'EUR' and relation is not none -%}
        {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- if currency | lower not in columns -%}
            {{ exceptions.raise_compiler_error(
                "var reporting_currency: no exchange rates for " ~ currency
                ~ " in the seed exchange_rates (EUR or one of: "
                ~ (columns | reject('equalto', 'rate_date') | map('upper') | join(', ')) ~ ")"
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
