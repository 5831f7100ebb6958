"""The stack transformation that puts each job's tags on every resource that accepts them.

Registered before any resource, it sees every resource the program creates.
It finds the owning job through the parent chain (each job is a
:class:`~dativo_infra.components.base.JobComponent`), and sets the job's
tags, already formatted for the resource's cloud, on ``tags`` / ``labels``
(Kubernetes: ``metadata.labels`` and the pod template's labels). Tags a
component set explicitly are kept; the job's tags are applied over them.
Resources outside any job get the tenant's default tags. Classes that take
no tags are left untouched.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Optional

import pulumi

from .taggable import tag_input

# Kubernetes objects whose pod template also gets the labels
_POD_TEMPLATE_PATHS = (("spec", "template"), ("spec", "job_template"), ("spec", "jobTemplate"),
                       ("spec", "job_template", "spec", "template"), ("spec", "jobTemplate", "spec", "template"))


def _merge(existing: Any, tags: Mapping[str, str]) -> Any:
    if isinstance(existing, pulumi.Output):
        return existing.apply(lambda value: {**(value or {}), **tags})
    return {**(existing or {}), **tags}


def _as_dict(value: Any) -> Optional[dict]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    return None  # an Args object or an Output: components pass plain dicts, so this does not arise


def _label_object(props: Mapping[str, Any], labels: Mapping[str, str]) -> dict[str, Any]:
    out = dict(props)
    metadata = _as_dict(out.get("metadata"))
    if metadata is not None:
        metadata["labels"] = _merge(metadata.get("labels"), labels)
        out["metadata"] = metadata
    for path in _POD_TEMPLATE_PATHS:
        node: Any = out
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            template = dict(node)
            meta = _as_dict(template.get("metadata"))
            if meta is not None:
                meta["labels"] = _merge(meta.get("labels"), labels)
                template["metadata"] = meta
                _set_path(out, path, template)
    return out


def _set_path(root: dict, path: tuple, value: Any) -> None:
    # copy along the path so the caller's dicts are never mutated
    node = root
    for key in path[:-1]:
        node[key] = dict(node[key])
        node = node[key]
    node[path[-1]] = value


class TagTransformation:
    """Callable registered with ``register_stack_transformation``."""

    def __init__(self, tenant_tags: Callable[[str], Mapping[str, str]]):
        self._tenant_tags = tenant_tags  # cloud → the tenant's default tags
        self._owner: dict[int, Any] = {}  # id(resource) → owning JobComponent

    def owner_of(self, parent: Any) -> Any:
        if parent is None:
            return None
        if getattr(parent, "is_dativo_job", False):
            return parent
        return self._owner.get(id(parent))

    def __call__(self, args: pulumi.ResourceTransformationArgs) -> Optional[pulumi.ResourceTransformationResult]:
        owner = self.owner_of(args.opts.parent if args.opts else None)
        if owner is not None:
            self._owner[id(args.resource)] = owner
        found = tag_input(type(args.resource))  # type: ignore[arg-type]  # a class is hashable; mypy checks its instances' __hash__
        if found is None:
            return None
        cloud, name = found
        tags = owner.tags_for(cloud) if owner is not None else self._tenant_tags(cloud)
        if not tags:
            return None
        if name == "metadata":
            props = _label_object(args.props, tags)
        else:
            props = dict(args.props)
            props[name] = _merge(props.get(name), tags)
        return pulumi.ResourceTransformationResult(props, args.opts)


def register(tenant_tags: Callable[[str], Mapping[str, str]]) -> TagTransformation:
    transformation = TagTransformation(tenant_tags)
    pulumi.runtime.register_stack_transformation(transformation)
    return transformation
