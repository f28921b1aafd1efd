{#- Where the Spark target finds the landed tables: the lake, Parquet files that `mrr-warehouse` keeps in step
    with the warehouse (src/mrr_warehouse/lake.py, docs/decisions.md D42). The paths follow the CLI's defaults:
    $MRR_WAREHOUSE_LAKE, else lake/ beside $MRR_WAREHOUSE_DB; Spark's own files under $MRR_WAREHOUSE_SPARK_DIR,
    else spark/ beside it (profiles.yml). -#}
{% macro warehouse_folder() -%}
    {{ return(env_var('MRR_WAREHOUSE_DB', 'warehouse.duckdb').rpartition('/')[0] or '.') }}
{%- endmacro %}

{% macro lake_path() -%}
    {{ return(env_var('MRR_WAREHOUSE_LAKE', warehouse_folder() ~ '/lake').rstrip('/')) }}
{%- endmacro %}

{% macro spark_folder() -%}
    {{ return(env_var('MRR_WAREHOUSE_SPARK_DIR', warehouse_folder() ~ '/spark').rstrip('/')) }}
{%- endmacro %}

{#- The on-run-start hook (dbt_project.yml): on engines that do not read the warehouse file itself, each source
    table of the raw layer becomes a view of its folder in the lake (lake/<schema>/<table>/*.parquet). -#}
{% macro register_lake_sources() -%}
    {{ return(adapter.dispatch('register_lake_sources', 'mrr_warehouse')()) }}
{%- endmacro %}

{% macro default__register_lake_sources() -%}
    {{ return('') }}
{%- endmacro %}

{% macro spark__register_lake_sources() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set schemas = [] -%}
    {%- for source in graph.sources.values() if source.package_name == project_name -%}
        {%- if source.schema not in schemas -%}
            {%- do run_query('create schema if not exists ' ~ source.schema) -%}
            {%- do schemas.append(source.schema) -%}
        {%- endif -%}
        {%- do run_query(
            'create or replace view ' ~ source.schema ~ '.' ~ source.identifier ~ ' as select * from parquet.`'
            ~ lake_path() ~ '/' ~ source.schema ~ '/' ~ source.identifier ~ '`'
        ) -%}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}
