"""The fictional organisation: who owns which Lambda function, ECS service and EKS deployment.

Lambda and ECS ownership lives only in AWS tags (written to tags.json, as the Tagging API
would answer); EKS ownership travels as Kubernetes labels and annotations of the Deployment
inside each exporter event (label values cannot hold `/`, so Git.Repository is always an
annotation; one team keeps everything in annotations, one has a stale label that its
annotation overrides).
The awkward cases are deliberate: untagged resources, a partial tag set, a deployment
without labels, a lowercase label alias, the pre-2021 short ECS service ARN.
"""

from __future__ import annotations

from dataclasses import dataclass

from dora4_generator.events import ecs_service_arn, lambda_arn

# The tagging schema, written out again here on purpose: the generator never imports the
# pipeline, so its truth stays independent of the code it checks; tests/test_generator.py
# checks the two lists agree.
TAG_KEYS = (
    "Ownership.BA",
    "Ownership.Pod",
    "Ownership.Team",
    "Environment",
    "Component.Name",
    "Compliance.Namespace",
    "Git.Projectid",
    "Git.Repository",
)
# Truth column for each tag key.
TRUTH_COLUMNS = {
    "Environment": "environment",
    "Ownership.BA": "ownership_ba",
    "Ownership.Pod": "ownership_pod",
    "Ownership.Team": "ownership_team",
    "Compliance.Namespace": "compliance_namespace",
    "Git.Projectid": "git_project_id",
    "Git.Repository": "git_repository",
}
UNASSIGNED = "unassigned"
# Label keys the pipeline must treat as aliases of a tag key.
LABEL_ALIASES = {"ownership.pod": "Ownership.Pod"}


@dataclass(frozen=True)
class Component:
    kind: str  # "lambda_function" | "ecs_service" | "k8s_deployment"
    name: str  # function, service or deployment name
    tags: dict[str, str] | None  # None: untagged (Lambda/ECS) or no labels (EKS)
    cluster: str | None = None  # ECS cluster (None: short ARN) or EKS cluster
    namespace: str | None = None  # EKS only
    annotation_keys: tuple[str, ...] = ()  # EKS: tag keys set as annotations, not labels
    stale_labels: dict[str, str] | None = None  # EKS: labels an annotation overrides

    def resource_id(self, account: str, region: str) -> str:
        """The id truth and the pipeline key a deployment by (unqualified ARN for Lambda)."""
        if self.kind == "lambda_function":
            return lambda_arn(name=self.name, account=account, region=region)
        if self.kind == "ecs_service":
            return ecs_service_arn(
                service=self.name, account=account, region=region, cluster=self.cluster
            )
        return f"{self.cluster}/{self.namespace}/{self.name}"

    def k8s_metadata(self) -> tuple[dict[str, str] | None, dict[str, str] | None]:
        """(labels, annotations) of an EKS Deployment; (None, None) without metadata."""
        if self.tags is None:
            return None, None
        labels = {k: v for k, v in self.tags.items() if k not in self.annotation_keys}
        labels.update(self.stale_labels or {})
        annotations = {k: self.tags[k] for k in self.annotation_keys if k in self.tags}
        return labels, annotations

    def ownership(self) -> dict[str, str]:
        """Truth's component and ownership columns, `unassigned` where a tag is missing."""
        tags = {LABEL_ALIASES.get(key, key): value for key, value in (self.tags or {}).items()}
        row = {"component_name": tags.get("Component.Name", self.name)}
        row.update({column: tags.get(key, UNASSIGNED) for key, column in TRUTH_COLUMNS.items()})
        return row


# One component per line: kind, name, where, Ownership.BA, .Pod, .Team, Environment,
# Component.Name ("=": the name), Git.Projectid. Compliance.Namespace follows the BA and
# Git.Repository is "<BA>/<Component.Name>". "where" is the ECS cluster ("-": the short
# ARN) or the EKS cluster/namespace. "-" values are absent; a row of them is an untagged
# resource (Lambda/ECS) or a deployment without labels (EKS, the exporter's omitLookup).
_TABLE = """
lambda invoice-renderer      -             payments  billing   invoicing     prod =  101
lambda receipt-mailer        -             payments  billing   invoicing     prod =  102
lambda ledger-reconciler     -             payments  ledger    ledger-core   prod =  103
lambda fraud-scorer          -             payments  fraud     risk          prod =  104
lambda fraud-scorer-stg      -             payments  fraud     risk          stg  fraud-scorer 104
lambda cart-abandon-notifier -             commerce  checkout  cart          prod =  201
lambda price-indexer         -             commerce  catalog   search        prod =  202
lambda image-resizer         -             commerce  catalog   merchandising prod =  203
lambda label-printer         -             logistics shipping  carriers      prod =  301
lambda stock-sync            -             logistics warehouse stock         prod =  302
lambda stock-sync-staging    -             logistics warehouse stock         stg  stock-sync 302
lambda legacy-cron-cleanup   -             -         -         -             -    -  -
ecs    ledger-api            payments      payments  ledger    ledger-core   prod =  110
ecs    billing-api           payments      payments  billing   invoicing     prod =  111
ecs    checkout-web          commerce      commerce  checkout  cart          prod =  210
ecs    checkout-web          commerce-stg  commerce  checkout  cart          stg  =  210
ecs    catalog-api           commerce      commerce  catalog   search        prod =  211
ecs    search-indexer        commerce      -         -         -             -    -  -
ecs    tracking-api          logistics     logistics shipping  -             prod =  310
ecs    warehouse-legacy      -             logistics warehouse stock         prod =  311
eks    cart-api              prod/checkout commerce  checkout  cart          prod =  77
eks    cart-api              stg/checkout  commerce  checkout  cart          stg  =  77
eks    catalog-web           prod/catalog  commerce  catalog   merchandising prod =  220
eks    payment-gateway       prod/payments payments  ledger    ledger-core   prod =  120
eks    fraud-model           prod/fraud    payments  fraud     risk          prod fraud-serving 121
eks    shipping-quotes       prod/shipping logistics shipping  carriers      prod =  320
eks    parcel-tracker        prod/shipping logistics shipping  carriers      prod =  321
eks    batch-runner          prod/batch    -         -         -             -    -  -
"""
_KINDS = {"lambda": "lambda_function", "ecs": "ecs_service", "eks": "k8s_deployment"}
_ENVIRONMENTS = {"prod": "production", "stg": "staging"}
_EKS_CLUSTERS = {"prod": "eks-prod-eu-west-1", "stg": "eks-staging-eu-west-1"}
_COMPLIANCE = {"payments": "pci", "commerce": "commerce", "logistics": "logistics"}
# parcel-tracker's pod label uses the lowercase alias, as some teams' manifests do.
_LOWERCASE_POD_LABEL = {"parcel-tracker"}
# EKS ownership in annotations: Git.Repository everywhere (a label value cannot hold `/`);
# fraud-model keeps every key there; shipping-quotes has a stale team label.
_ANNOTATION_KEYS = {
    "fraud-model": (*TAG_KEYS,),
    "shipping-quotes": ("Git.Repository", "Ownership.Team"),
}
_STALE_LABELS = {"shipping-quotes": {"Ownership.Team": "shipping-legacy"}}


def _component(line: str) -> Component:
    kind, name, where, ba, pod, team, env, component, project = line.split()
    component = name if component == "=" else component
    values = (
        ba,
        pod,
        team,
        _ENVIRONMENTS.get(env),
        component,
        _COMPLIANCE.get(ba),
        project,
        f"{ba}/{component}",
    )
    tags = None
    if ba != "-":
        tags = {key: value for key, value in zip(TAG_KEYS, values, strict=True) if value != "-"}
        if name in _LOWERCASE_POD_LABEL:
            tags["ownership.pod"] = tags.pop("Ownership.Pod")
    if kind == "eks":
        alias, namespace = where.split("/")
        return Component(
            _KINDS[kind],
            name,
            tags,
            _EKS_CLUSTERS[alias],
            namespace,
            _ANNOTATION_KEYS.get(name, ("Git.Repository",)) if tags else (),
            _STALE_LABELS.get(name),
        )
    cluster = None if where == "-" else where.replace("-stg", "-staging")
    return Component(_KINDS[kind], name, tags, cluster)


COMPONENTS = tuple(_component(line) for line in _TABLE.strip().splitlines())
LAMBDA_FUNCTIONS = tuple(c for c in COMPONENTS if c.kind == "lambda_function")
ECS_SERVICES = tuple(c for c in COMPONENTS if c.kind == "ecs_service")
EKS_DEPLOYMENTS = tuple(c for c in COMPONENTS if c.kind == "k8s_deployment")


def tags_file(account: str, region: str) -> dict[str, dict[str, str]]:
    """tags.json: ARN → tags for tagged Lambda functions and ECS services only."""
    return {
        component.resource_id(account, region): dict(component.tags)
        for component in LAMBDA_FUNCTIONS + ECS_SERVICES
        if component.tags
    }
