"""The deployment frequency dashboard, kept as code and created or updated in Datadog.

The JSON file is the source of truth: the dashboard is found by its title, so publishing
twice updates the one dashboard instead of creating a second, and edits made in the UI
are overwritten. Dashboards need an application key as well as the API key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from datadog_api_client import Configuration
from datadog_api_client.exceptions import ApiException, OpenApiException
from datadog_api_client.model_utils import (
    ModelComposed,
    ModelNormal,
    ModelSimple,
    UnparsedObject,
    validate_and_convert_types,
)
from datadog_api_client.v1.api.dashboards_api import DashboardsApi
from datadog_api_client.v1.model.dashboard import Dashboard
from urllib3.exceptions import HTTPError

import dashboards
from dora4_pipeline.errors import ConfigError
from dora4_pipeline.resources.datadog import DatadogResource

_KEY_HINT = " (check DD_API_KEY, DD_APP_KEY and the application key's dashboards_write scope)"
DEFAULT_DASHBOARD = dashboards.ROOT / "deployment_frequency.json"  # package data: ships installed


def load_dashboard(path: Path) -> Dashboard:
    """The file as the client's model, checked as strictly as Datadog would check it.

    The client is lenient: an unknown field is kept as an extra property, and a widget
    it cannot match becomes an "unparsed" object. Both are refused here, so a typo fails
    on this machine instead of as a 400 from Datadog (or a silently ignored field).
    """
    try:
        data = json.loads(Path(path).read_text())
        dashboard = validate_and_convert_types(
            data, (Dashboard,), ["dashboard"], True, True, configuration=Configuration()
        )
    except OSError as error:
        raise ConfigError(f"cannot read dashboard file {path}: {error.strerror}") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"dashboard file {path} is not JSON: {error}") from None
    except (OpenApiException, TypeError, ValueError, AttributeError) as error:
        reason = str(error).splitlines()[0]
        raise ConfigError(f"dashboard file {path} is not a valid dashboard: {reason}") from None
    problem = next(_problems(dashboard, "dashboard"), None)
    if problem:
        raise ConfigError(f"dashboard file {path} is not a valid dashboard: {problem}")
    return dashboard


def _problems(value: object, where: str) -> Iterator[str]:
    """Unknown fields and unmatched values, found by walking the converted model."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from _problems(item, f"{where}[{index}]")
    elif isinstance(value, UnparsedObject):
        yield f"{where} matches none of the client's models"
    elif isinstance(value, ModelComposed):  # a oneOf, e.g. a widget definition
        for instance in value._composed_instances:
            if isinstance(instance, UnparsedObject):
                yield f"{where} is not a valid {type(value).__name__}"
            else:
                yield from _problems(instance, where)
    elif isinstance(value, ModelSimple) and value._unparsed:
        yield f"{where} = {value.value!r} is not one of {type(value).__name__}'s values"
    elif isinstance(value, ModelNormal):
        for name, item in value._data_store.items():
            if name not in value.openapi_types:
                yield f"{where}.{name} is not a field of {type(value).__name__}"
            else:
                yield from _problems(item, f"{where}.{name}")


def publish_dashboard(resource: DatadogResource, path: Path = DEFAULT_DASHBOARD) -> str:
    """Create the dashboard, or update the one with the same title. One line back."""
    dashboard = load_dashboard(path)
    resource = resource.process_config_and_initialize()  # EnvVar names → values
    keys = {"DD_API_KEY": resource.api_key, "DD_APP_KEY": resource.app_key}
    missing = [name for name, value in keys.items() if not value]
    if len(missing) == len(keys):
        return _dry_run(dashboard, resource)
    if missing:
        raise ConfigError(f"dashboards need DD_API_KEY and DD_APP_KEY: set {missing[0]}")
    try:
        with resource.api_client() as client:
            return _create_or_update(DashboardsApi(client), dashboard, resource)
    except ApiException as error:
        body = error.body if isinstance(error.body, str) else json.dumps(error.body)
        body = " ".join(body.split())[:300]
        hint = _KEY_HINT if error.status in (401, 403) else ""
        message = f"Datadog at {resource.destination} answered {error.status} {error.reason}: "
        raise ConfigError(resource.redact(message + body + hint)) from None
    except HTTPError as error:  # connection refused, DNS, TLS: after the client's retries
        message = f"cannot reach Datadog at {resource.destination}: {error}"
        raise ConfigError(resource.redact(message)) from None


def _create_or_update(api: DashboardsApi, dashboard: Dashboard, resource: DatadogResource) -> str:
    same_title = [d.id for d in api.list_dashboards_with_pagination() if d.title == dashboard.title]
    if same_title:
        answer, verb = api.update_dashboard(same_title[0], dashboard), "updated"
    else:
        answer, verb = api.create_dashboard(dashboard), "created"
    note = f" ({len(same_title)} dashboards have this title)" if len(same_title) > 1 else ""
    return f"{verb} dashboard {answer.id} {_app_url(resource, answer)}{note}"


def _dry_run(dashboard: Dashboard, resource: DatadogResource) -> str:
    variables = ", ".join(f"{v.name}={v.prefix}" for v in dashboard.get("template_variables") or [])
    return (
        f"dry run (DD_API_KEY and DD_APP_KEY not set), nothing sent: would create or update "
        f"{dashboard.title!r} with {len(dashboard.widgets)} widgets, template variables "
        f"[{variables}], at {resource.destination}"
    )


def _app_url(resource: DatadogResource, answer: Dashboard) -> str:
    """Datadog answers a path; the web app lives on `app.<site>` (US1, EU, gov) or the
    site itself (us3, us5, ap1...). A proxy or test double answers on its own host."""
    path = answer.get("url") or f"/dashboard/{answer.id}"
    if resource.url:
        return resource.destination + path
    host = f"app.{resource.site}" if resource.site.count(".") == 1 else resource.site
    return f"https://{host}{path}"
