"""What every job component shares: its job, its variables, its tags, and child naming."""
from __future__ import annotations

from typing import Any, Mapping, Optional

import pulumi

from ..resolve import ResolvedJob


class JobComponent(pulumi.ComponentResource):
    """One Dativo job's infrastructure. Subclasses set ``TYPE`` and build children in ``build``.

    The component reads only the resolved job's ``variables`` (the flat set
    shared with Terraform); tags are applied to its children by the stack
    transformation, which finds this component through their parent chain.
    """

    TYPE = "dativo:base:Job"
    is_dativo_job = True

    def __init__(self, name: str, job: ResolvedJob, opts: Optional[pulumi.ResourceOptions] = None):
        super().__init__(self.TYPE, name, None, opts)
        self.job = job.job
        self.variables = dict(job.variables)
        self.outputs: dict[str, Any] = self.build(self.variables)
        self.register_outputs(self.outputs)

    def build(self, v: Mapping[str, Any]) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def tags_for(self, cloud: str) -> Mapping[str, str]:
        """The job's tags in ``cloud``'s format (Kubernetes labels for Kubernetes objects)."""
        if cloud == "kubernetes":
            return self.variables.get("labels", {})
        if cloud == self.variables["cloud_provider"]:
            return self.variables["tags"]
        return {}

    def child(self, role: str, **extra: Any) -> tuple[str, pulumi.ResourceOptions]:
        """Logical name and options of a child: ``<component>-<role>``, parented here."""
        return f"{self._name}-{role}", pulumi.ResourceOptions(parent=self, **extra)
