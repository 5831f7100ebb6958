"""Pulumi CrossGuard policy pack: the Dativo tag policy on the resources of any Pulumi program.

    pulumi preview --policy-pack policy_pack --policy-pack-config policy_pack/config.json
    DATIVO_POLICY_FILE=$PWD/examples/policies/prod.yaml pulumi preview --policy-pack policy_pack

Two resource policies: ``dativo-tag-policy`` (mandatory: the policy's ``error`` rules) and
``dativo-tag-policy-warnings`` (advisory: its ``warn`` rules). Each reads the policy file from its
config (``policyFile``) or the environment variable DATIVO_POLICY_FILE.

A policy pack sees resources, not jobs. Whether a resource takes tags is read from its provider
SDK class, as the stack transformation does (dativo_infra.tags.taggable on
dativo_infra.plan.sdk_class); other resources are left alone. A rule's scope is read from the
resource itself: tenant and environment from its own ``dativo:tenant`` / ``dativo:environment`` tags
(in the cloud's key format), provider and runtime from the Dativo job component in its URN
(``dativo:aws:EcsJob`` → aws, ecs), else the provider from the resource's own cloud. The config keys
``tenant``, ``environment``, ``provider`` and ``runtime`` fill in what the resource does not say.
A scope value nobody knows matches only rules without that scope list.

The validators are plain functions (``validate_errors``, ``validate_warnings``) taking
``ResourceValidationArgs`` and ``report_violation``: tests call them without the Pulumi CLI.
``PolicyPack(...)`` itself starts the analyzer's gRPC server, so it runs only as the pack's main program.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional

try:
    import dativo_infra  # noqa: F401  (installed in the pack's virtualenv)
except ImportError:  # run from a checkout: the project sits beside this folder
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import EnforcementLevel, PolicyConfigSchema, PolicyPack, ResourceValidationArgs, ResourceValidationPolicy  # noqa: E402

from dativo_infra.errors import ConfigError  # noqa: E402
from dativo_infra.policy.coverage import COMPONENT_SCOPES, resource_tags, taggable  # noqa: E402
from dativo_infra.policy.evaluate import check_tags  # noqa: E402
from dativo_infra.policy.model import Policy, load_policy  # noqa: E402
from dativo_infra.tags.formats import FORMATS  # noqa: E402

PACK_NAME = "dativo-tags"
POLICY_FILE_CONFIG = "policyFile"
POLICY_FILE_ENV = "DATIVO_POLICY_FILE"
SCOPE_KEYS = ("tenant", "environment", "provider", "runtime")
_CLOUD_OF_PACKAGE = {"aws": "aws", "gcp": "gcp", "azure-native": "azure"}

ReportViolation = Callable[..., None]
_loaded: dict[tuple[str, float], Policy] = {}


def policy_file(config: Mapping[str, Any]) -> Optional[str]:
    """The policy file named by the policy's config (``policyFile``), else by DATIVO_POLICY_FILE."""
    return config.get(POLICY_FILE_CONFIG) or os.environ.get(POLICY_FILE_ENV) or None


def policy_of(path: str) -> Policy:
    """The policy in ``path``, read again only when the file changes."""
    key = (os.path.abspath(path), os.stat(path).st_mtime)
    if key not in _loaded:
        _loaded[key] = load_policy(path)
    return _loaded[key]


def _tag(tags: Mapping[str, Any], key: str, cloud: str) -> Optional[str]:
    fmt = FORMATS[cloud]
    wanted = fmt.fold(fmt.key(key))
    for k, v in tags.items():
        if fmt.fold(k) == wanted and isinstance(v, str):
            return v
    return None


def component_scope(urn: str) -> tuple[Optional[str], Optional[str]]:
    """(provider, runtime) of the Dativo job component among the resource's parent types in its URN."""
    # urn:pulumi:STACK::PROJECT::PARENT-TYPE$...$TYPE::NAME
    parts = urn.split("::")
    types = parts[2].split("$") if len(parts) >= 4 else []
    for typ in types:
        if typ in COMPONENT_SCOPES:
            return COMPONENT_SCOPES[typ]
    return None, None


def resource_scope(resource_type: str, urn: str, cloud: str, tags: Mapping[str, Any], config: Mapping[str, Any]) -> dict:
    provider, runtime = component_scope(urn)
    provider = provider or _CLOUD_OF_PACKAGE.get(resource_type.split(":", 1)[0])
    scope = {
        "tenant": _tag(tags, "dativo:tenant", cloud),
        "environment": _tag(tags, "dativo:environment", cloud),
        "provider": provider,
        "runtime": runtime,
    }
    return {k: scope[k] if scope[k] is not None else config.get(k) for k in SCOPE_KEYS}


def _validator(severity: str) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        config = args.get_config() or {}
        path = policy_file(config)
        if not path:
            if severity == "error":
                report_violation(f"no tag policy file: set the {POLICY_FILE_CONFIG!r} config of this policy or {POLICY_FILE_ENV}")
            return
        try:
            policy = policy_of(path)
        except OSError as exc:
            if severity == "error":
                report_violation(f"{path}: cannot read the tag policy file: {exc.strerror or exc}")
            return
        except ConfigError as exc:
            if severity == "error":
                report_violation("invalid tag policy: " + "; ".join(p.render() for p in exc.problems))
            return
        found = taggable(args.resource_type)
        if found is None:
            return  # the resource cannot carry tags (coverage lists it with its tagged parent)
        cloud, name = found
        tags = resource_tags(args.props, name)
        scope = resource_scope(args.resource_type, args.urn, cloud, tags, config)
        for finding in check_tags(policy, **scope, cloud=cloud, tags=tags, subject=args.urn,
                                  severities=(severity,), default_level="resource"):
            report_violation(f"{finding.key}: {finding.message} (rule {finding.rule}: {finding.rule_description}; "
                             f"{cloud} {FORMATS[cloud].noun} of {args.resource_type} {args.name})")

    validate.__name__ = validate.__qualname__ = f"validate_{'errors' if severity == 'error' else 'warnings'}"
    return validate


validate_errors = _validator("error")
validate_warnings = _validator("warn")

CONFIG_SCHEMA = PolicyConfigSchema(properties={
    POLICY_FILE_CONFIG: {"type": "string", "description": f"the tag policy file (else {POLICY_FILE_ENV})"},
    **{k: {"type": "string", "description": f"the {k} of resources whose tags do not say it"} for k in SCOPE_KEYS},
})

POLICIES = [
    ResourceValidationPolicy(
        name="dativo-tag-policy",
        description="Resources that accept tags carry the keys and values the Dativo tag policy's error rules require.",
        validate=validate_errors,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=CONFIG_SCHEMA,
    ),
    ResourceValidationPolicy(
        name="dativo-tag-policy-warnings",
        description="Resources that accept tags follow the Dativo tag policy's warn rules.",
        validate=validate_warnings,
        enforcement_level=EnforcementLevel.ADVISORY,
        config_schema=CONFIG_SCHEMA,
    ),
]

if __name__ == "__main__":
    PolicyPack(name=PACK_NAME, policies=POLICIES)
