"""What every job component shares: its job, its typed arguments, its tags, and child naming."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Generic, Optional, TypeVar

import pulumi

from ..resolve import ResolvedJob
from .args import CommonArgs, KubernetesArgs

A = TypeVar("A", bound=CommonArgs)


class JobComponent(pulumi.ComponentResource, Generic[A]):
    """One Dativo job's infrastructure. Subclasses set ``TYPE`` and ``ARGS`` and build children in ``build``.

    The component reads only its ``args``: the resolved job's ``variables`` (the
    flat set shared with Terraform) as an ``ARGS`` instance; tags are applied to
    its children by the stack transformation, which finds this component through
    their parent chain.
    """

    TYPE = "dativo:base:Job"
    ARGS: ClassVar[type[CommonArgs]] = CommonArgs  # each runtime's own class (dativo_infra.components.args.RUNTIME_ARGS)
    is_dativo_job = True

    def __init__(self, name: str, job: ResolvedJob, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(self.TYPE, name, None, opts)
        self.job = job.job
        self.args: A = self.ARGS.from_variables(job.variables)  # type: ignore[assignment]  # ARGS is the class of A
        self.outputs: dict[str, Any] = self.build(self.args)
        self.register_outputs(self.outputs)

    def build(self, a: A) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def tags_for(self, cloud: str) -> Mapping[str, str]:
        """The job's tags in ``cloud``'s format (Kubernetes labels for Kubernetes objects)."""
        if cloud == "kubernetes":
            return self.args.labels if isinstance(self.args, KubernetesArgs) else {}
        if cloud == self.args.cloud_provider:
            return self.args.tags
        return {}

    def child(self, role: str, **extra: Any) -> tuple[str, pulumi.ResourceOptions]:
        """Logical name and options of a child: ``<component>-<role>``, parented here."""
        return f"{self._name}-{role}", pulumi.ResourceOptions(parent=self, **extra)
