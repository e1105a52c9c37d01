"""raw.codedeploy_deployment_groups: the ECS services behind each CodeDeploy deployment group.

A CodeDeploy SUCCESS names only its application and deployment group. Each group seen in a
SUCCESS event is asked once (GetDeploymentGroup in its own account and region, or the tags
file's entry) and the answer kept, so a group deleted later still resolves its past
deployments. A group that could not be resolved is kept with its problem, shown as a near
miss (staging.stg_codedeploy_near_misses), and asked again on the next run.
"""

import json
from datetime import UTC, datetime

from dora4_pipeline import sql
from dora4_pipeline.resources.aws_accounts import AccountSessions
from dora4_pipeline.resources.codedeploy import GroupAnswer, GroupKey, from_info, resolve
from dora4_pipeline.resources.tagging import TaggingResource
from dora4_pipeline.resources.warehouse import WarehouseResource

_UNRESOLVED = """
select distinct e.account, e.region, e.application, e.deployment_group
from staging.stg_codedeploy_events e
where e.state = 'SUCCESS' and e.problem is null
  and not exists (
      select 1 from raw.codedeploy_deployment_groups g
      where g.problem is null and g.account = e.account and g.region = e.region
        and g.application = e.application and g.deployment_group = e.deployment_group
  )
order by all
"""


def resolve_deployment_groups(
    tagging: TaggingResource, sessions: AccountSessions, warehouse: WarehouseResource, log
) -> dict[str, int]:
    """Resolves the groups not yet resolved; returns counts for the step's metadata."""
    with warehouse.connect() as conn:
        keys = [GroupKey(*row) for row in conn.execute(_UNRESOLVED).fetchall()]
    if not keys:
        return {"deployment_groups_resolved": 0, "deployment_groups_unresolved": 0}
    in_file = tagging.deployment_groups() if tagging.tags_file else None
    answers = {key: _answer(in_file, sessions, key) for key in keys}
    with warehouse.connect() as conn:
        _store(conn, answers)
    failed = {k: a for k, a in answers.items() if a.problem}
    for key, answer in list(failed.items())[:5]:
        log.warning(
            f"CodeDeploy deployment group {key.application}/{key.deployment_group} "
            f"({key.account}, {key.region}) not resolved: {answer.problem}; its SUCCESS "
            "deployments are near misses, not counted"
        )
    return {
        "deployment_groups_resolved": len(answers) - len(failed),
        "deployment_groups_unresolved": len(failed),
    }


def _answer(in_file: dict | None, sessions: AccountSessions, key: GroupKey) -> GroupAnswer:
    """From the tags file when one is configured (no AWS), else from CodeDeploy's API."""
    if in_file is None:
        return resolve(sessions, key)
    info = in_file.get((key.account, key.region, key.application, key.deployment_group))
    if info is None:
        return GroupAnswer(None, [], "deployment group not in DORA4_TAGS_FILE")
    return from_info(info)


def _store(conn, answers: dict[GroupKey, GroupAnswer]) -> None:
    now = datetime.now(UTC)
    with sql.transaction(conn):
        for key, answer in answers.items():
            where = [key.account, key.region, key.application, key.deployment_group]
            conn.execute(
                "delete from raw.codedeploy_deployment_groups where account = ? and region = ? "
                "and application = ? and deployment_group = ?",
                where,
            )
            conn.execute(
                "insert into raw.codedeploy_deployment_groups values (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    *where,
                    answer.compute_platform,
                    json.dumps(answer.ecs_services),
                    answer.problem,
                    now,
                ],
            )
