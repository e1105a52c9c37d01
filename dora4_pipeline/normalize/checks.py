"""Checks on the inputs of lead time, change failure rate and time to restore."""

import dagster as dg

from dora4_pipeline.markdown import table
from dora4_pipeline.normalize.keys import FCT_CHANGES
from dora4_pipeline.resources.warehouse import WarehouseResource
from dora4_pipeline.steps import warehouse_check


@warehouse_check(
    asset=FCT_CHANGES,
    description=(
        "Warns when pushes of more than 20 commits left commits without a lead time: GitLab's "
        "hook lists the newest 20, and GITLAB_URL/GITLAB_TOKEN were not set or GitLab refused "
        "(marts.fct_change_gaps, ops.gitlab_commit_fetches)."
    ),
)
def lead_time_commits_complete(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect() as conn:
        per_day = conn.execute(
            "select day, count(distinct push_event_id), sum(commits_missing) "
            "from marts.fct_change_gaps group by day order by day desc limit 60"
        ).fetchall()
        outcomes = conn.execute(
            "select status, count(*) from ops.gitlab_commit_fetches group by all order by all"
        ).fetchall()
    missing = sum(row[2] for row in per_day)
    return dg.AssetCheckResult(
        passed=missing == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "lead_time_commits_missing": int(missing),
            "gitlab_fetches_by_status": dg.MetadataValue.md(table(["status", "pushes"], outcomes)),
            "missing_by_day": dg.MetadataValue.md(
                table(["day", "pushes", "commits missing"], per_day)
            ),
        },
    )
