"""The floor: DuckDB alone counting the three deployment signals in the archive's objects.

No warehouse, no Dagster, nothing kept: one `read_json` scan over every object with the
same reader options as landing (dbt_like_sql/landing/scan_objects.sql) and the same
predicates as the staging rules (dbt_like_sql/staging/stg_*_deployments.sql). About as
fast as this machine reads this data, so the pipeline is measured against it.

Usage: python benchmarks/floor.py ARCHIVE_DIR  (prints one JSON line)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import duckdb

COUNT_SIGNALS = """
with records as (
    select "source" as source, "detail-type" as detail_type, detail
    from read_json(
        $paths,
        format = 'unstructured',
        records = true,
        compression = 'auto',
        columns = {'source': 'VARCHAR', 'detail-type': 'VARCHAR', 'detail': 'JSON'}
    )
)
select
    count(*) as events,
    count(*) filter (
        where source = 'aws.lambda'
          and detail ->> 'eventName' = 'UpdateFunctionCode20150331v2'
          and detail ->> 'errorCode' is null
          and coalesce(detail ->> '$.requestParameters.dryRun', 'false') <> 'true'
    ) as lambda,
    count(*) filter (
        where source = 'aws.ecs'
          and detail_type = 'ECS Deployment State Change'
          and detail ->> 'eventName' = 'SERVICE_DEPLOYMENT_COMPLETED'
    ) as ecs,
    count(*) filter (
        where detail ->> 'reason' = 'ScalingReplicaSet'
          and json_exists(detail, '$.involvedObject')
          and regexp_matches(
              detail ->> 'message',
              '^(\\(combined from similar events\\): )?Scaled down (replica set|ReplicaSet) \\S+ '
              || '(\\(revision \\d+\\) )?(to 0( from \\d+)?|from \\d+ to 0)$'
          )
    ) as eks
from records
"""


def count_signals(archive: Path) -> dict:
    """Every non-empty object under `archive` in one scan (DuckDB picks gzip by extension)."""
    paths = sorted(str(p) for p in archive.rglob("*") if p.is_file() and p.stat().st_size)
    began = time.perf_counter()
    with duckdb.connect() as conn:
        events, lam, ecs, eks = conn.execute(COUNT_SIGNALS, {"paths": paths}).fetchone()
    return {
        "objects": len(paths),
        "events": events,
        "deployments": lam + ecs + eks,
        "by_source": {"lambda": lam, "ecs": ecs, "eks": eks},
        "seconds": round(time.perf_counter() - began, 3),
    }


if __name__ == "__main__":
    print(json.dumps(count_signals(Path(sys.argv[1]))))
