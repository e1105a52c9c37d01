"""Fast noise: events pre-rendered once by the builders, then filled by %-formatting.

A million events a day cannot afford a dict and json.dumps each; rendering a builder's
output with marker values once keeps the noise exactly in the builders' shape.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from random import Random

from dora4_generator.catalog import ECS_SERVICES, EKS_DEPLOYMENTS, LAMBDA_FUNCTIONS
from dora4_generator.events import (
    cloudtrail_other_call,
    ec2_instance_state_change,
    ecs_task_state_change,
)
from dora4_generator.k8s import k8s_event

_NUMERIC = re.compile(r'"@@#(\w+)@@"')
_MARKER = re.compile(r"@@(\w+)@@")


def compile_template(event: dict) -> str:
    """The compact JSON of `event` with `@@name@@` markers turned into `%(name)s` fields."""
    text = json.dumps(event, separators=(",", ":")).replace("%", "%%")
    return _MARKER.sub(r"%(\1)s", _NUMERIC.sub(r"%(\1)s", text))


@lru_cache(maxsize=4096)
def _day_text(day_number: int) -> str:
    import datetime as dt

    return (dt.date(1970, 1, 1) + dt.timedelta(days=day_number)).isoformat()


def iso_at(seconds: int) -> str:
    """Epoch seconds as `YYYY-MM-DDTHH:MM:SSZ`, quickly (the day part is cached)."""
    day, rest = divmod(seconds, 86400)
    return f"{_day_text(day)}T{rest // 3600:02d}:{rest // 60 % 60:02d}:{rest % 60:02d}Z"


def random_uuid(rng: Random) -> str:
    """A version-4-shaped UUID from the seeded RNG (uuid4() would not be reproducible)."""
    text = f"{rng.getrandbits(128):032x}"
    variant = "89ab"[int(text[16], 16) & 3]
    return f"{text[:8]}-{text[8:12]}-4{text[13:16]}-{variant}{text[17:20]}-{text[20:]}"


_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def pod_hash(rng: Random, length: int = 10) -> str:
    """A pod-template-hash-like suffix (Kubernetes' safe alphabet)."""
    return "".join(_ALPHABET[int(rng.random() * 27)] for _ in range(length))


class NoiseMaker:
    """Renders noise events for an envelope time; one weighted pool of template variants."""

    def __init__(self, *, account: str, region: str, rng: Random) -> None:
        self.rng = rng
        kinds = (
            (self._ecs_tasks(account, region), 550),
            (self._cloudtrail(account, region), 200),
            (self._pods(account, region), 170),
            (self._ec2(account, region), 80),
        )
        # 1,000 slots shared by kind (per mille), each kind's variants in turn.
        self.pool = [makers[i % len(makers)] for makers, slots in kinds for i in range(slots)]

    def render(self, seconds: int) -> str:
        """One noise event whose envelope time is `seconds` (epoch)."""
        maker = self.pool[int(self.rng.random() * len(self.pool))]
        return maker(seconds)

    def _ecs_tasks(self, account: str, region: str) -> list:
        rng, makers = self.rng, []
        for service in ECS_SERVICES:
            for status in ("PROVISIONING", "PENDING", "RUNNING", "RUNNING", "STOPPED"):
                text = compile_template(
                    ecs_task_state_change(
                        envelope_id="@@id@@",
                        time="@@time@@",
                        account=account,
                        region=region,
                        cluster=service.cluster or "default",
                        service=service.name,
                        task_id="@@task@@",
                        last_status=status,
                        updated_at="@@ts@@",
                        created_at="@@ts@@",
                        attachment_id="@@att@@",
                        started_by=f"ecs-svc/{rng.getrandbits(62):019d}",
                        task_definition_revision=rng.randrange(1, 90),
                    )
                )

                def make(seconds: int, text: str = text) -> str:
                    time = iso_at(seconds)
                    return text % {
                        "id": random_uuid(rng),
                        "time": time,
                        "ts": f"{time[:-1]}.{int(rng.random() * 1000):03d}Z",
                        "task": f"{rng.getrandbits(128):032x}",
                        "att": random_uuid(rng),
                    }

                makers.append(make)
        return makers

    def _cloudtrail(self, account: str, region: str) -> list:
        rng, makers = self.rng, []
        names = (
            "GetFunction20150331v2",
            "UpdateFunctionConfiguration20150331v2",
            "ListFunctions20150331",
        )
        for function in LAMBDA_FUNCTIONS:
            for name in names:
                event = cloudtrail_other_call(
                    event_id="@@eid@@",
                    event_time="@@time@@",
                    event_name=name,
                    function_name=function.name,
                    account=account,
                    region=region,
                    envelope_id="@@id@@",
                    request_id="@@rid@@",
                )
                if event["detail"]["responseElements"]:
                    event["detail"]["responseElements"]["lastModified"] = "@@lm@@"
                text = compile_template(event)

                def make(seconds: int, text: str = text) -> str:
                    time = iso_at(seconds)
                    return text % {
                        "id": random_uuid(rng),
                        "time": time,
                        "eid": random_uuid(rng),
                        "rid": random_uuid(rng),
                        "lm": time[:-1] + ".000+0000",
                    }

                makers.append(make)
        return makers

    def _pods(self, account: str, region: str) -> list:
        rng, makers = self.rng, []
        reasons = (
            (
                "Scheduled",
                "Successfully assigned {ns}/{pod} to ip-10-0-3-17.ec2.internal",
                "default-scheduler",
                "Normal",
            ),
            ("Pulling", 'Pulling image "{image}"', "kubelet", "Normal"),
            ("Killing", "Stopping container app", "kubelet", "Normal"),
            (
                "Unhealthy",
                "Readiness probe failed: HTTP probe failed with statuscode: 503",
                "kubelet",
                "Warning",
            ),
        )
        for deployment in EKS_DEPLOYMENTS:
            labels = None
            if deployment.tags is not None:
                labels = {
                    "app": deployment.name,
                    "pod-template-hash": "@@hash@@",
                    **deployment.tags,
                }
            for reason, message, component, kind in reasons:
                pod = f"{deployment.name}-@@hash@@-@@pod@@"
                text = compile_template(
                    k8s_event(
                        envelope_id="@@id@@",
                        envelope_time="@@time@@",
                        account=account,
                        region=region,
                        cluster_name=deployment.cluster,
                        namespace=deployment.namespace,
                        uid="@@uid@@",
                        reason=reason,
                        message=message.format(
                            ns=deployment.namespace,
                            pod=pod,
                            image=f"{account}.dkr.ecr.{region}.amazonaws.com/{deployment.name}:release",
                        ),
                        involved_kind="Pod",
                        involved_name=pod,
                        involved_uid="@@puid@@",
                        last_timestamp="@@ktime@@",
                        labels=labels,
                        type=kind,
                        component=component,
                        name=f"{pod}.@@ehex@@",
                    )
                )

                def make(seconds: int, text: str = text) -> str:
                    return text % {
                        "id": random_uuid(rng),
                        "time": iso_at(seconds),
                        "ktime": iso_at(seconds - 1 - int(rng.random() * 3)),
                        "uid": random_uuid(rng),
                        "puid": random_uuid(rng),
                        "hash": pod_hash(rng),
                        "pod": pod_hash(rng, 5),
                        "ehex": f"{rng.getrandbits(64):016x}",
                    }

                makers.append(make)
        return makers

    def _ec2(self, account: str, region: str) -> list:
        rng, makers = self.rng, []
        for state in ("pending", "running", "stopping", "stopped", "shutting-down", "terminated"):
            text = compile_template(
                ec2_instance_state_change(
                    envelope_id="@@id@@",
                    time="@@time@@",
                    account=account,
                    region=region,
                    instance_id="i-@@inst@@",
                    state=state,
                )
            )

            def make(seconds: int, text: str = text) -> str:
                return text % {
                    "id": random_uuid(rng),
                    "time": iso_at(seconds),
                    "inst": f"{rng.getrandbits(68):017x}",
                }

            makers.append(make)
        return makers
