"""The four keys at a glance without Datadog: one self-contained HTML file, and a PNG of it.

One Vega-Lite view (tiles with bands, weekly trends, deployments per day by source) with a
`group` parameter drives both files, so the picture in chat is the page in the browser. The
HTML inlines the Vega bundle that vl-convert carries (no CDN, no server: it opens offline)
and the drill-down tables as JSON; the PNG is rendered by vl-convert for the organisation.
Everything is read from the marts, never recomputed here.
"""

from __future__ import annotations

import html
import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import vl_convert

DEFAULT_WEEKS = 12
ENVIRONMENT = "production"
BAND_COLOURS = {  # colour-blind-safe, in band order
    "elite": "#1a9850",
    "high": "#91cf60",
    "medium": "#fdae61",
    "low": "#d73027",
    "no_data": "#bdbdbd",
}
# (key, title, value expression over a marts.dora_weekly row, unit, band column)
KEYS = (
    (
        "df",
        "Deployment frequency",
        "deployment_days_per_week",
        "days/week",
        "deployment_frequency_band",
    ),
    (
        "lt",
        "Lead time for changes",
        "lead_time_median_seconds / 3600",
        "h median",
        "lead_time_band",
    ),
    ("cfr", "Change failure rate", "100 * change_failure_rate", "%", "change_failure_rate_band"),
    (
        "ttr",
        "Time to restore",
        "time_to_restore_median_seconds / 3600",
        "h median",
        "time_to_restore_band",
    ),
)
LEVEL_NAMES = {"org": "Organisation", "ba": "BA", "pod": "Pod", "team": "Team"}
TABLE_ROWS_SHOWN = 500
_BUNDLE_CACHE = Path.home() / ".cache" / "dora4"


def collect(conn: duckdb.DuckDBPyConnection, weeks: int = DEFAULT_WEEKS) -> dict | None:
    """Everything the view shows, for the last `weeks` weeks of marts.dora_weekly; None when
    nothing is materialized yet."""
    (latest,) = conn.execute(
        "select max(period_start) from marts.dora_weekly where environment = ?", [ENVIRONMENT]
    ).fetchone()
    if latest is None:
        return None
    first_week = latest - timedelta(weeks=weeks - 1)
    timezone = _reporting_timezone(conn)
    value_columns = ", ".join(
        f"{expression} as {key}, {band} as {key}_band" for key, _, expression, _, band in KEYS
    )
    rows = _dicts(
        conn,
        f"""
        select grouping, ownership_ba as ba, ownership_pod as pod, ownership_team as team,
               period_start as week, deployments, {value_columns}
        from marts.dora_weekly
        where environment = $env and period_start between $first and $latest
        order by period_start
        """,  # noqa: S608 (columns from the fixed KEYS above)
        {"env": ENVIRONMENT, "first": first_week, "latest": latest},
    )
    for row in rows:
        row["group"] = group_id(row)
    groups = _groups(rows)
    latest_rows = [r for r in rows if r["week"] == latest]
    return {
        "environment": ENVIRONMENT,
        "timezone": timezone,
        "weeks": [first_week.isoformat(), latest.isoformat()],
        "latest_week": latest.isoformat(),
        "groups": groups,
        "tiles": [tile for row in latest_rows for tile in _tiles(row)],
        "trends": [point for row in rows for point in _trend_points(row)],
        "per_day": _per_day(conn, first_week, latest + timedelta(days=6)),
        "tables": _drill_down(conn, latest, timezone),
    }


def group_id(row: dict) -> str:
    """'pod|Payments|Checkout|*': the grouping and its ownership path, '*' below it."""
    return "|".join([row["grouping"], row["ba"], row["pod"], row["team"]])


def view_spec(data: dict, group: str = "org|*|*|*") -> dict:
    """The Vega-Lite view of `data`, showing `group`: tiles, weekly trends, deployments/day."""
    groups = data["groups"]
    if group not in {g["id"] for g in groups} and groups:
        group = groups[0]["id"]
    bands = list(BAND_COLOURS)
    colour = {
        "field": "band",
        "type": "nominal",
        "scale": {"domain": bands, "range": list(BAND_COLOURS.values())},
        "title": "band",
    }
    only_group = {"filter": "datum.group == group"}
    titles = [title for _, title, _, _, _ in KEYS]
    tiles = {
        "data": {"name": "tiles"},
        "transform": [only_group],
        "width": 880,
        "height": 80,
        "title": f"Latest week ({data['latest_week']}, {data['environment']}, {data['timezone']})",
        "encoding": {
            "x": {
                "field": "title",
                "type": "nominal",
                "sort": titles,
                "axis": {"orient": "top", "title": None, "labelFontSize": 13, "labelAngle": 0},
            }
        },
        "layer": [
            {"mark": {"type": "rect", "opacity": 0.85}, "encoding": {"color": colour}},
            {
                "mark": {"type": "text", "fontSize": 22, "dy": -10},
                "encoding": {"text": {"field": "value_text"}},
            },
            {
                "mark": {"type": "text", "fontSize": 12, "dy": 18},
                "encoding": {"text": {"field": "band_text"}},
            },
        ],
    }
    trends = {
        "data": {"name": "trends"},
        "transform": [only_group],
        "title": "Weekly trend of each key",
        "facet": {"row": {"field": "title", "type": "nominal", "sort": titles, "title": None}},
        "resolve": {"scale": {"y": "independent"}},
        "spec": {
            "width": 760,
            "height": 90,
            "layer": [
                {"mark": {"type": "line", "color": "#555"}},
                {
                    "mark": {"type": "point", "filled": True, "size": 70},
                    "encoding": {"color": colour},
                },
            ],
            "encoding": {
                "x": {
                    "field": "week",
                    "type": "ordinal",
                    "title": "week starting",
                    "axis": {"labelAngle": 0},
                },
                "y": {"field": "value", "type": "quantitative", "title": None},
                "tooltip": [
                    {"field": "week"},
                    {"field": "value_text", "title": "value"},
                    {"field": "band"},
                ],
            },
        },
    }
    per_day = {
        "data": {"name": "per_day"},
        "transform": [only_group],
        "title": "Deployments per day by source (UTC days)",
        "width": 880,
        "height": 160,
        "mark": "bar",
        "encoding": {
            "x": {"field": "day", "type": "ordinal", "timeUnit": "yearmonthdate", "title": None},
            "y": {"field": "deployments", "type": "quantitative", "stack": "zero"},
            "color": {"field": "source", "type": "nominal"},
            "tooltip": [
                {"field": "day", "type": "temporal"},
                {"field": "source"},
                {"field": "deployments"},
            ],
        },
    }
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "params": [
            {
                "name": "group",
                "value": group,
                "bind": {
                    "input": "select",
                    "name": "Show ",
                    "options": [g["id"] for g in groups],
                    "labels": [g["label"] for g in groups],
                },
            }
        ],
        "datasets": {"tiles": data["tiles"], "trends": data["trends"], "per_day": data["per_day"]},
        "vconcat": [tiles, trends, per_day],
        # bands and sources are different colour scales
        "resolve": {"scale": {"color": "independent"}, "legend": {"color": "independent"}},
        "config": {"font": "sans-serif", "view": {"stroke": None}},
    }


def render_html(data: dict) -> str:
    """The whole page: the view with its selector, and the drill-down tables below it."""
    payload = json.dumps({"spec": view_spec(data), "tables": data["tables"]}, default=str)
    payload = payload.replace("</", "<\\/")  # the JSON cannot close its <script> element
    weeks = f"{data['weeks'][0]} … {data['weeks'][1]}"
    return _PAGE.format(
        title="DORA four keys",
        subtitle=html.escape(
            f"weeks {weeks} · {data['environment']} · reporting timezone {data['timezone']}"
        ),
        bands=" ".join(
            f'<span class="band" style="background:{c}">{html.escape(b)}</span>'
            for b, c in BAND_COLOURS.items()
        ),
        bundle=vega_bundle().replace("</script", "<\\/script"),
        payload=payload,
        shown=TABLE_ROWS_SHOWN,
    )


def render_png(data: dict, group: str = "org|*|*|*") -> bytes:
    spec = view_spec(data, group)
    spec["params"][0].pop("bind")  # a picture has no selector
    return vl_convert.vegalite_to_png(spec, scale=1.5)


def write_report(
    warehouse: str, html_path: Path | None, png_path: Path | None, weeks: int = DEFAULT_WEEKS
) -> dict | None:
    """Writes the files asked for (each atomically); the collected data, or None if empty."""
    with duckdb.connect(warehouse, read_only=True) as conn:
        data = collect(conn, weeks)
    if data is None:
        return None
    if html_path is not None:
        _write_atomically(html_path, render_html(data).encode())
    if png_path is not None:
        _write_atomically(png_path, render_png(data))
    return data


def vega_bundle() -> str:
    """Vega, Vega-Lite and vega-embed as one script, from vl-convert: building it takes tens
    of seconds, so it is kept per vl-convert version in ~/.cache/dora4."""
    path = (
        _BUNDLE_CACHE
        / f"vega-bundle-{vl_convert.get_vega_embed_version()}-{vl_convert.get_vega_version()}.js"
    )
    if path.is_file():
        return path.read_text()
    bundle = vl_convert.javascript_bundle()
    try:
        _write_atomically(path, bundle.encode())
    except OSError:
        pass  # a read-only home: build it again next time
    return bundle


def _tiles(row: dict) -> list[dict]:
    return [
        {
            "group": row["group"],
            "title": title,
            "band": row[f"{key}_band"],
            "value_text": _value_text(row[key], unit),
            "band_text": row[f"{key}_band"].replace("_", " "),
        }
        for key, title, _, unit, _ in KEYS
    ]


def _trend_points(row: dict) -> list[dict]:
    return [
        {
            "group": row["group"],
            "week": row["week"].isoformat(),
            "title": title,
            "value": None if row[key] is None else round(row[key], 2),
            "value_text": _value_text(row[key], unit),
            "band": row[f"{key}_band"],
        }
        for key, title, _, unit, _ in KEYS
        if row[key] is not None
    ]


def _value_text(value: float | None, unit: str) -> str:
    return "–" if value is None else f"{value:.1f} {unit}"


def _groups(rows: list[dict]) -> list[dict]:
    order = list(LEVEL_NAMES)
    seen = {r["group"]: r for r in rows}
    ranked = sorted(
        seen.values(),
        key=lambda r: (order.index(r["grouping"]) if r["grouping"] in order else 9, r["group"]),
    )
    return [
        {
            "id": r["group"],
            "label": LEVEL_NAMES.get(r["grouping"], r["grouping"])
            + (
                ""
                if r["grouping"] == "org"
                else " " + " / ".join(p for p in (r["ba"], r["pod"], r["team"]) if p != "*")
            ),
            "ba": r["ba"],
            "pod": r["pod"],
            "team": r["team"],
        }
        for r in ranked
    ]


def _per_day(conn: duckdb.DuckDBPyConnection, first: date, last: date) -> list[dict]:
    """Deployments per UTC day and source for every group level, zero days left out."""
    rows = _dicts(
        conn,
        """
        select
            case when grouping(ownership_ba) = 1 then 'org'
                 when grouping(ownership_pod) = 1 then 'ba'
                 when grouping(ownership_team) = 1 then 'pod' else 'team' end as grouping,
            coalesce(ownership_ba, '*') as ba, coalesce(ownership_pod, '*') as pod,
            coalesce(ownership_team, '*') as team,
            day, event_source as source, count(*) as deployments
        from marts.fct_deployments
        where environment = $env and day between $first and $last
        group by grouping sets (
            (day, event_source),
            (day, event_source, ownership_ba),
            (day, event_source, ownership_ba, ownership_pod),
            (day, event_source, ownership_ba, ownership_pod, ownership_team)
        )
        order by day, source
        """,
        {"env": ENVIRONMENT, "first": first, "last": last},
    )
    return [
        {
            "group": group_id(r),
            "day": r["day"].isoformat(),
            "source": r["source"],
            "deployments": r["deployments"],
        }
        for r in rows
    ]


def _drill_down(conn: duckdb.DuckDBPyConnection, week: date, timezone: str) -> dict:
    """The rows behind the latest week's tiles: deployments, commits and failures."""
    params = {"env": ENVIRONMENT, "tz": timezone, "first": week, "last": week + timedelta(days=6)}
    local = "cast({} at time zone $tz as date) between $first and $last"
    return {
        "deployments": _dicts(
            conn,
            f"""
            select deployed_at, event_source as source, component_name as component,
                   ownership_ba as ba, ownership_pod as pod, ownership_team as team,
                   deployment_id, source_object
            from marts.fct_deployments
            where environment = $env and {local.format("deployed_at")}
            order by deployed_at
            """,  # noqa: S608 (a fixed clause)
            params,
        ),
        "commits": _dicts(
            conn,
            f"""
            select commit_sha, committed_at, deployed_at,
                   round(lead_time_seconds / 3600, 2) as lead_time_hours,
                   component_name as component,
                   ownership_ba as ba, ownership_pod as pod, ownership_team as team, deployment_id
            from marts.fct_changes
            where environment = $env and {local.format("deployed_at")}
            order by deployed_at, commit_sha
            """,  # noqa: S608 (a fixed clause)
            params,
        ),
        "failures": _dicts(
            conn,
            f"""
            select failure_id, kind, started_at, resolved_at,
                   round(epoch(resolved_at - started_at) / 3600, 2) as restore_hours,
                   component_name as component, ownership_ba as ba, ownership_pod as pod,
                   ownership_team as team, deployment_id
            from marts.fct_failures
            where environment = $env and {local.format("started_at")}
            order by started_at
            """,  # noqa: S608 (a fixed clause)
            params,
        ),
    }


def _reporting_timezone(conn: duckdb.DuckDBPyConnection) -> str:
    row = conn.execute("select spec ->> 'timezone' from ops.metric_spec").fetchone()
    return row[0] if row and row[0] else "UTC"


def _dicts(conn: duckdb.DuckDBPyConnection, query: str, params: dict) -> list[dict]:
    cursor = conn.execute(query, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _write_atomically(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    partial.replace(path)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval';
               style-src 'unsafe-inline'; img-src data:">
<title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 1.5em; color: #222; }}
.band {{ padding: 0 .5em; border-radius: 3px; font-size: 85%; }}
table {{ border-collapse: collapse; font-size: 85%; margin-bottom: 1.5em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 2px 8px; text-align: left; }}
caption {{ text-align: left; font-weight: bold; padding: 4px 0; }}
.vega-bind {{ font-size: 110%; margin: .5em 0; }}
</style></head>
<body>
<h1>{title}</h1>
<p>{subtitle} · bands: {bands}</p>
<div id="view"></div>
<h2>Behind the latest week</h2>
<div id="tables"></div>
<script>{bundle}</script>
<script id="dora4-data" type="application/json">{payload}</script>
<script>
const data = JSON.parse(document.getElementById("dora4-data").textContent);
const groups = Object.fromEntries(data.spec.params[0].bind.options.map((id, i) =>
  [id, {{id, label: data.spec.params[0].bind.labels[i]}}]));
function member(row, group) {{
  const [, ba, pod, team] = group.split("|");
  return (ba === "*" || row.ba === ba) && (pod === "*" || row.pod === pod)
    && (team === "*" || row.team === team);
}}
function cell(text) {{
  const td = document.createElement("td"); td.textContent = text ?? ""; return td;
}}
function showTables(group) {{
  const root = document.getElementById("tables");
  root.replaceChildren();
  for (const [name, rows] of Object.entries(data.tables)) {{
    const mine = rows.filter(r => member(r, group));
    const table = document.createElement("table");
    const caption = table.createCaption();
    caption.textContent = name + ": " + mine.length
      + (mine.length > {shown} ? " (first {shown} shown)" : "");
    const columns = rows.length ? Object.keys(rows[0]) : [];
    const head = table.createTHead().insertRow();
    for (const c of columns) {{
      const th = document.createElement("th"); th.textContent = c; head.append(th);
    }}
    const body = table.createTBody();
    for (const r of mine.slice(0, {shown})) {{
      const tr = body.insertRow(); for (const c of columns) tr.append(cell(r[c]));
    }}
    table.id = "table-" + name;
    root.append(table);
  }}
}}
vegaEmbed("#view", data.spec, {{actions: false, renderer: "svg"}}).then(result => {{
  const group = result.view.signal("group");
  showTables(group);
  result.view.addSignalListener("group", (_, value) => showTables(value));
  document.body.dataset.ready = "true";
}}).catch(error => {{
  document.getElementById("view").textContent = "could not draw the view: " + error;
}});
</script>
</body></html>
"""
