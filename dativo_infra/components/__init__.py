"""One component per runtime. Modules import their provider SDK, so they are loaded only when used."""
from __future__ import annotations

import importlib

# effective runtime → (module, class)
COMPONENTS = {
    "ecs": ("dativo_infra.components.aws_ecs", "EcsJob"),
    "cloud_run": ("dativo_infra.components.gcp_cloud_run", "CloudRunJob"),
    "container_apps": ("dativo_infra.components.azure_container_apps", "ContainerAppsJob"),
    "kubernetes": ("dativo_infra.components.kubernetes_job", "KubernetesJob"),
}


def component_class(runtime: str):
    try:
        module, name = COMPONENTS[runtime]
    except KeyError:
        raise NotImplementedError(f"no component for runtime {runtime!r} yet (available: {', '.join(sorted(COMPONENTS))})") from None
    return getattr(importlib.import_module(module), name)
