"""The HTML page of `mrr-warehouse report`: Plotly figures (plain dicts) per view and one self-contained page.

Plotly's JavaScript comes from the `plotly` package (the copy of plotly.min.js in its wheel) and is inlined, so the
page opens offline. Money arrives in cents and is shown in whole units of the reporting currency.

The page records what happened while it drew, for people and for tests (tests/python/test_report.py): the
element `#report-status` receives JSON with the console errors and uncaught exceptions, and the number of drawn
marks (SVG paths and heat-map images) per chart.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from plotly.offline import get_plotlyjs

# chart id -> title; the page has one <div> per chart and every view draws all of them
CHARTS = {
    "chart-mrr-arr": "MRR and ARR",
    "chart-mrr-bridge": "MRR movements per month (the MRR bridge)",
    "chart-customers": "Customers: paying at month end, new, churned and reactivated",
    "chart-churn-rates": "Churn rates",
    "chart-unit-economics": "ARPA, ASP and LTV",
    "chart-cash-flow": "Cash flow",
    "chart-cohort-customers": "Cohort retention: customers still paying (% of cohort)",
    "chart-cohort-mrr": "Cohort retention: net MRR (% of the cohort's MRR at month 0)",
}

COLORS = {
    "new_business": "#2ca02c",
    "expansion": "#98df8a",
    "reactivation": "#17becf",
    "contraction": "#ff9f4a",
    "churn": "#d62728",
    "fx_adjustment": "#9e9e9e",
    "mrr": "#1f4e99",
    "arr": "#8c6bb1",
}


@dataclass
class View:
    """What one selector entry shows: all sources, or one data source."""

    key: str
    label: str
    metrics: list[dict[str, Any]]
    cohorts: list[dict[str, Any]]
    movements: list[dict[str, Any]]
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)


def units(cents: Any) -> int | None:
    """Cents -> whole currency units, rounded half away from zero."""
    if cents is None:
        return None
    return int((Decimal(str(cents)) / 100).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def money_text(cents: Any, currency: str | None) -> str:
    value = units(cents)
    if value is None:
        return "n/a"
    text = f"{value:,}"
    return f"{text} {currency}" if currency else text


def rate_text(rate: Any) -> str:
    if rate is None:
        return "n/a"
    return f"{Decimal(str(rate)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}%"


def month_label(value: Any) -> str:
    return str(value)[:7]


def month_start(value: Any) -> str:
    return str(value)[:10]


def _rate(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def _layout(title: str, y_title: str, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0.01, "font": {"size": 16}},
        "xaxis": {
            "title": {"text": "Month"},
            "type": "date",
            "tickformat": "%b %Y",
            "hoverformat": "%B %Y",
            "automargin": True,
        },
        "yaxis": {"title": {"text": y_title}, "tickformat": ",.0f", "automargin": True, "zeroline": True},
        "legend": {"orientation": "h", "y": -0.25, "x": 0},
        "margin": {"l": 70, "r": 70, "t": 50, "b": 40},
        "height": 420,
        "hovermode": "x unified",
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
    }
    layout.update(extra)
    return layout


def _line(name: str, x: list[str], y: list[Any], color: str | None = None, **extra: Any) -> dict[str, Any]:
    trace = {"type": "scatter", "mode": "lines+markers", "name": name, "x": x, "y": y, "marker": {"size": 4}}
    if color:
        trace["line"] = {"color": color, "width": 2.5}
    trace.update(extra)
    return trace


def _bar(name: str, x: list[str], y: list[Any], color: str) -> dict[str, Any]:
    return {"type": "bar", "name": name, "x": x, "y": y, "marker": {"color": color}}


def _secondary_axis(title: str) -> dict[str, Any]:
    return {
        "title": {"text": title},
        "overlaying": "y",
        "side": "right",
        "tickformat": ",.0f",
        "tickmode": "auto",
        "showgrid": False,
        "automargin": True,
        "rangemode": "tozero",
    }


def build_figures(view: View, currency_label: str) -> dict[str, dict[str, Any]]:
    rows = view.metrics
    months = [month_start(r["month"]) for r in rows]

    def money(column: str, sign: int = 1) -> list[int | None]:
        return [None if r[column] is None else sign * units(r[column]) for r in rows]  # type: ignore[operator]

    in_money = f"({currency_label})"
    figures: dict[str, dict[str, Any]] = {}
    # ARR is 12 x MRR: the right axis spans exactly 12 x the left one, so one line reads on both scales.
    top = 1.05 * max([value or 0 for value in money("mrr")] + [1])
    figures["chart-mrr-arr"] = {
        "data": [
            _line("MRR (left axis)", months, money("mrr"), COLORS["mrr"]),
            _line("ARR (right axis)", months, money("arr"), COLORS["arr"], yaxis="y2", line={"dash": "dot"}),
        ],
        "layout": _layout(
            CHARTS["chart-mrr-arr"],
            f"MRR {in_money}",
            yaxis={"title": {"text": f"MRR {in_money}"}, "tickformat": ",.0f", "range": [0, top]},
            yaxis2=_secondary_axis(f"ARR {in_money}") | {"range": [0, 12 * top]},
        ),
    }
    bridge = [
        ("mrr_new_business", "New business", COLORS["new_business"]),
        ("mrr_expansion", "Expansion", COLORS["expansion"]),
        ("mrr_reactivation", "Reactivation", COLORS["reactivation"]),
        ("mrr_contraction", "Contraction", COLORS["contraction"]),
        ("mrr_churn", "Churn", COLORS["churn"]),
        ("fx_adjustment", "FX adjustment", COLORS["fx_adjustment"]),
    ]
    net_change = [
        units(sum(Decimal(str(r[c] or 0)) for c, _, _ in bridge))
        for r in rows  # type: ignore[misc]
    ]
    figures["chart-mrr-bridge"] = {
        "data": [_bar(label, months, money(column), color) for column, label, color in bridge]
        + [_line("Net MRR change", months, net_change, "#222222")],
        "layout": _layout(CHARTS["chart-mrr-bridge"], f"MRR change {in_money}", barmode="relative"),
    }
    figures["chart-customers"] = {
        "data": [
            _bar("New", months, [r["new_customers"] for r in rows], COLORS["new_business"]),
            _bar("Reactivated", months, [r["reactivated_customers"] for r in rows], COLORS["reactivation"]),
            _bar("Churned", months, [-r["churned_customers"] for r in rows], COLORS["churn"]),
            _line(
                "Paying customers at month end (right axis)",
                months,
                [r["customers"] for r in rows],
                COLORS["mrr"],
                yaxis="y2",
            ),
        ],
        "layout": _layout(
            CHARTS["chart-customers"],
            "Customers joining (+) / leaving (-)",
            barmode="relative",
            yaxis2=_secondary_axis("Paying customers"),
        ),
    }
    figures["chart-churn-rates"] = {
        "data": [
            _line("Customer churn rate", months, [_rate(r["customer_churn_rate"]) for r in rows], "#d62728"),
            _line("Net MRR churn rate", months, [_rate(r["mrr_churn_rate"]) for r in rows], "#1f77b4"),
            _line(
                "Gross MRR churn rate", months, [_rate(r["gross_mrr_churn_rate"]) for r in rows], "#ff7f0e"
            ),
        ],
        "layout": _layout(
            CHARTS["chart-churn-rates"],
            "",
            yaxis={"title": {"text": "% of the month's start"}, "ticksuffix": "%", "automargin": True},
        ),
    }
    figures["chart-unit-economics"] = {
        "data": [
            _line("ARPA", months, money("arpa"), "#1f77b4"),
            _line("ASP", months, money("asp"), "#2ca02c"),
            _line("LTV (right axis)", months, money("ltv"), "#9467bd", yaxis="y2", line={"dash": "dot"}),
        ],
        "layout": _layout(
            CHARTS["chart-unit-economics"], f"ARPA, ASP {in_money}", yaxis2=_secondary_axis(f"LTV {in_money}")
        ),
    }
    figures["chart-cash-flow"] = {
        "data": [
            _bar("Gross cash flow", months, money("gross_cash_flow"), "#2ca02c"),
            _bar("Refunds", months, money("refunds", -1), "#d62728"),
            _line("Net cash flow", months, money("net_cash_flow"), "#222222"),
            _line("Non-recurring cash flow", months, money("non_recurring_cash_flow"), "#ff7f0e"),
        ],
        "layout": _layout(CHARTS["chart-cash-flow"], f"Cash {in_money}", barmode="relative"),
    }
    figures["chart-cohort-customers"] = _heatmap(
        view.cohorts, "customer_retention_rate", "chart-cohort-customers"
    )
    figures["chart-cohort-mrr"] = _heatmap(view.cohorts, "net_mrr_retention_rate", "chart-cohort-mrr")
    return figures


def _heatmap(cohorts: list[dict[str, Any]], column: str, chart_id: str) -> dict[str, Any]:
    cohort_months = sorted({month_label(r["cohort_month"]) for r in cohorts})
    width = 1 + max((int(r["month_number"]) for r in cohorts), default=0)
    grid: dict[str, list[float | None]] = {month: [None] * width for month in cohort_months}
    sizes: dict[str, int] = {}
    for r in cohorts:
        grid[month_label(r["cohort_month"])][int(r["month_number"])] = _rate(r[column])
        sizes[month_label(r["cohort_month"])] = int(r["customers_at_start"])
    labels = [f"{month} (n={sizes[month]:,})" for month in cohort_months]
    values = [v for row in grid.values() for v in row if v is not None]
    if column == "customer_retention_rate":
        scale: dict[str, Any] = {"colorscale": [[0, "#f4f7fb"], [1, "#1f4e99"]], "zmin": 0, "zmax": 100}
    else:
        # Net MRR retention runs above 100% with expansion: red below 100, green above, white at 100.
        spread = max([abs(v - 100) for v in values] + [10])
        scale = {
            "colorscale": [[0, "#c62828"], [0.5, "#f7f7f7"], [1, "#2e7d32"]],
            "zmid": 100,
            "zmin": 100 - spread,
            "zmax": 100 + spread,
        }
    return {
        "data": [
            {
                "type": "heatmap",
                "x": list(range(width)),
                "y": labels,
                "z": [grid[month] for month in cohort_months],
                **scale,
                "colorbar": {"title": {"text": "%"}, "ticksuffix": "%"},
                "texttemplate": "%{z:.0f}",
                "textfont": {"size": 9},
                "hovertemplate": "cohort %{y}, month %{x}: %{z:.1f}%<extra></extra>",
                "xgap": 1,
                "ygap": 1,
            }
        ],
        "layout": _layout(
            CHARTS[chart_id],
            "Cohort (first paid month, customers)",
            xaxis={"title": {"text": "Months since the cohort's first paid month"}, "dtick": 1},
            yaxis={
                "title": {"text": "Cohort (first paid month)"},
                "autorange": "reversed",
                "automargin": True,
            },
            height=max(420, 140 + 22 * len(cohort_months)),
            hovermode="closest",
            margin={"l": 70, "r": 40, "t": 50, "b": 40},
        ),
    }


HEADLINE = (
    ("mrr", "MRR"),
    ("arr", "ARR"),
    ("customers", "Paying customers"),
    ("arpa", "ARPA"),
    ("mrr_churn_rate", "Net MRR churn rate"),
)


def headline(view: View, currency: str | None) -> list[dict[str, str]]:
    """The last month's figures at the top, as displayed text plus the mart's value (data-value)."""
    if not view.metrics:
        return []
    last = view.metrics[-1]
    previous = view.metrics[-2] if len(view.metrics) > 1 else None
    items = []
    for column, label in HEADLINE:
        value = last[column]
        if column == "customers":
            text = f"{int(value):,}"
        elif column.endswith("_rate"):
            text = rate_text(value)
        else:
            text = money_text(value, currency)
        change = ""
        if previous is not None and previous[column] not in (None, 0) and value is not None:
            if column.endswith("_rate"):
                change = f"{float(value) - float(previous[column]):+.2f} points vs previous month"
            else:
                change = f"{100 * (float(value) / float(previous[column]) - 1):+.1f}% vs previous month"
        items.append(
            {
                "id": f"headline-{column.replace('_', '-')}",
                "label": label,
                "text": text,
                "value": "" if value is None else str(value),
                "change": change,
            }
        )
    return items


def movement_rows(view: View, currency: str | None) -> list[list[str]]:
    rows = []
    for m in view.movements:
        customer = m["customer_external_id"] or ""
        if m.get("customer_name"):
            customer = f"{m['customer_name']} ({customer})"
        cause = (m["cause_type"] or "").replace("_", " ")
        if m["cause_invoice_external_id"]:
            cause += f", invoice {m['cause_invoice_external_id']}"
        rows.append(
            [
                str(m["movement_at"])[:16],
                customer,
                m["subscription_external_id"] or "",
                (m["movement_type"] or "").replace("_", " "),
                money_text(m["mrr_change_in_cents"], currency),
                cause,
            ]
        )
    return rows


MOVEMENT_HEADERS = ["When", "Customer", "Subscription", "Movement", "MRR change", "Cause"]


def _json_for_script(value: Any) -> str:
    # `</` would end the <script> element early; `<\/` is the same string to JSON.
    return json.dumps(value, separators=(",", ":"), default=str).replace("</", "<\\/")


def render(
    views: list[View], *, title: str, subtitle: str, currency: str | None, last_month: str | None
) -> str:
    currency_label = currency or "reporting currency"
    payload = {
        "views": {
            view.key: {
                "label": view.label,
                "figures": build_figures(view, currency_label),
                "headline": headline(view, currency),
                "movements": movement_rows(view, currency),
            }
            for view in views
        },
        "order": [view.key for view in views],
        "charts": list(CHARTS),
    }
    selector = ""
    if len(views) > 1:
        options = "".join(
            f'<option value="{html.escape(view.key)}">{html.escape(view.label)}</option>' for view in views
        )
        selector = (
            '<label class="selector">Data source: '
            f'<select id="data-source-selector">{options}</select></label>'
        )
    charts = "\n".join(
        f'<section class="card{" wide" if chart_id.startswith("chart-cohort") else ""}">'
        f'<div id="{chart_id}" class="chart" data-chart="{chart_id}"></div></section>'
        for chart_id in CHARTS
    )
    headers = "".join(f"<th>{html.escape(h)}</th>" for h in MOVEMENT_HEADERS)
    movements_title = f"Largest MRR movements of {last_month}" if last_month else "Largest MRR movements"
    return PAGE.format(
        title=html.escape(title),
        subtitle=html.escape(subtitle),
        selector=selector,
        charts=charts,
        movements_title=html.escape(movements_title),
        movement_headers=headers,
        status_hook=STATUS_HOOK,
        plotly_js=get_plotlyjs(),
        payload=_json_for_script(payload),
        script=SCRIPT,
    )


# Installed before anything else runs, so every error on the page is caught.
STATUS_HOOK = """
window.__reportStatus = {errors: [], marks: {}, rendered: false};
// Every error is recorded at once, also after the charts were drawn and the status first written.
window.__reportError = function (message) {
  var status = window.__reportStatus;
  status.errors.push(message);
  var element = document.getElementById('report-status');
  if (element) { element.textContent = JSON.stringify(status); }
};
window.addEventListener('error', function (e) {
  window.__reportError('uncaught: ' + (e.message || String(e)));
});
window.addEventListener('unhandledrejection', function (e) {
  window.__reportError('unhandled rejection: ' + String(e.reason));
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__reportError(Array.prototype.map.call(arguments, String).join(' '));
    return original.apply(console, arguments);
  };
})();
"""

SCRIPT = """
(function () {
  var REPORT = JSON.parse(document.getElementById('report-data').textContent);
  var status = window.__reportStatus;
  var CONFIG = {displaylogo: false, responsive: true, displayModeBar: false};

  function countMarks(div) {
    var n = 0;
    div.querySelectorAll('.overplot .trace path, .overplot image').forEach(function (el) {
      if (el.tagName.toLowerCase() === 'image') {
        if (el.getAttribute('href') || el.getAttribute('xlink:href')) { n += 1; }
      } else {
        var d = el.getAttribute('d') || '';
        if (d.length > 0 && d !== 'M0,0Z') { n += 1; }
      }
    });
    return n;
  }

  function writeStatus() {
    document.getElementById('report-status').textContent = JSON.stringify(status);
  }

  function renderHeadline(items) {
    var box = document.getElementById('headline');
    box.textContent = '';
    items.forEach(function (item) {
      var card = document.createElement('div');
      card.className = 'kpi';
      card.id = item.id;
      card.setAttribute('data-value', item.value);
      var label = document.createElement('div'); label.className = 'kpi-label'; label.textContent = item.label;
      var value = document.createElement('div'); value.className = 'kpi-value'; value.textContent = item.text;
      var change = document.createElement('div'); change.className = 'kpi-change'; change.textContent = item.change;
      card.appendChild(label); card.appendChild(value); card.appendChild(change);
      box.appendChild(card);
    });
  }

  function renderMovements(rows) {
    var body = document.getElementById('movements-body');
    body.textContent = '';
    rows.forEach(function (row) {
      var tr = document.createElement('tr');
      row.forEach(function (cell, index) {
        var td = document.createElement('td');
        td.textContent = cell;
        if (index === 4) { td.className = cell.charAt(0) === '-' ? 'num negative' : 'num positive'; }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    document.getElementById('movements-empty').hidden = rows.length > 0;
  }

  function renderView(key) {
    var view = REPORT.views[key];
    document.getElementById('view-label').textContent = view.label;
    renderHeadline(view.headline);
    renderMovements(view.movements);
    var drawn = REPORT.charts.map(function (id) {
      var figure = view.figures[id];
      return Plotly.react(id, figure.data, figure.layout, CONFIG);
    });
    return Promise.all(drawn).then(function () {
      status.view = key;
      REPORT.charts.forEach(function (id) { status.marks[id] = countMarks(document.getElementById(id)); });
      status.rendered = true;
      writeStatus();
    }).catch(function (err) {
      window.__reportError('render: ' + String(err));
    });
  }

  var selector = document.getElementById('data-source-selector');
  if (selector) {
    selector.addEventListener('change', function () { renderView(selector.value); });
  }
  renderView(REPORT.order[0]);
})();
"""

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<script>{status_hook}</script>
<style>
  body {{ font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 0;
         background: #f3f5f8; color: #1d2433; }}
  header {{ background: #1f2d4d; color: #fff; padding: 18px 28px; display: flex; align-items: baseline;
           flex-wrap: wrap; gap: 8px 24px; }}
  header h1 {{ margin: 0; font-size: 24px; }}
  header .subtitle {{ color: #c9d3e8; font-size: 14px; }}
  .selector {{ margin-left: auto; font-size: 14px; }}
  .selector select {{ font-size: 14px; padding: 2px 6px; }}
  main {{ padding: 18px 28px 40px; }}
  .view {{ font-size: 14px; color: #4a5670; margin: 0 0 10px; }}
  #headline {{ display: grid; grid-template-columns: repeat(5, 1fr); gap: 14px; margin-bottom: 18px; }}
  .kpi {{ background: #fff; border-radius: 8px; padding: 14px 18px; box-shadow: 0 1px 3px rgba(0,0,0,.12); }}
  .kpi-label {{ font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: #5b6780; }}
  .kpi-value {{ font-size: 28px; font-weight: 600; margin: 4px 0; }}
  .kpi-change {{ font-size: 12px; color: #5b6780; min-height: 1em; }}
  .grid {{ display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }}
  .card {{ background: #fff; border-radius: 8px; padding: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.12);
          min-width: 0; }}
  .card.wide {{ grid-column: 1 / -1; }}
  table {{ width: 100%; border-collapse: collapse; font-size: 14px; }}
  th, td {{ text-align: left; padding: 6px 10px; border-bottom: 1px solid #e3e7ee; }}
  th {{ background: #eef1f6; }}
  td.num {{ text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }}
  td.negative {{ color: #b3261e; }}
  td.positive {{ color: #1b7a33; }}
  h2 {{ font-size: 18px; margin: 8px 8px 12px; }}
  .note {{ font-size: 13px; color: #5b6780; margin: 8px; }}
</style>
</head>
<body>
<header>
  <h1>{title}</h1>
  <span class="subtitle">{subtitle}</span>
  {selector}
</header>
<main>
  <p class="view">Showing: <strong id="view-label"></strong></p>
  <div id="headline"></div>
  <div class="grid">
{charts}
    <section class="card wide">
      <h2>{movements_title}</h2>
      <table id="movements">
        <thead><tr>{movement_headers}</tr></thead>
        <tbody id="movements-body"></tbody>
      </table>
      <p id="movements-empty" class="note" hidden>No MRR movement in this month.</p>
    </section>
  </div>
  <p class="note">Money in whole units of the reporting currency (rounded); rates in percent of the month's start.
  Cohorts: customers grouped by their first paid month; net MRR retention includes expansion and reactivation.</p>
</main>
<pre id="report-status" hidden></pre>
<script>{plotly_js}</script>
<script type="application/json" id="report-data">{payload}</script>
<script>{script}</script>
</body>
</html>
"""
