{#- dbt-spark loads a seed as INSERT ... VALUES statements, formatting every value in Python: 45 minutes and more
    for the exchange-rate seed (7,000 rows of 42 columns). A local session reads the CSV file itself instead, with
    each column cast to the type the seed's table was created with (docs/decisions.md D43). A thrift server cannot
    see this machine's files: there dbt-spark's own way is kept. -#}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- if env_var('MRR_WAREHOUSE_SPARK_METHOD', 'session') != 'session' -%}
        {{ return(dbt.spark__load_csv_rows(model, agate_table)) }}
    {%- endif -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set view = 'mrr_warehouse_seed_' ~ model.name -%}
    {%- set path = model.root_path ~ '/' ~ model.original_file_path -%}
    {%- call statement('_') -%}
        create or replace temporary view {{ view }} using csv
        options (path '{{ spark_string(path) }}', header 'true', mode 'FAILFAST')
    {%- endcall -%}
    {%- set sql -%}
        insert into {{ this.render() }}
        select
        {%- for col_name in agate_table.column_names %}
            {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) %}
            cast(`{{ col_name }}` as {{ column_override.get(col_name, inferred_type) }})
            {{- "," if not loop.last }}
        {%- endfor %}
        from {{ view }}
    {%- endset -%}
    {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
    {{ return(sql) }}
{%- endmacro %}
