"""One component per runtime. Modules import their provider SDK, so they are loaded only when used."""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from collections.abc import Iterable, Iterator

# effective runtime → (module, class)
COMPONENTS = {
    "ecs": ("dativo_infra.components.aws_ecs", "EcsJob"),
    "cloud_run": ("dativo_infra.components.gcp_cloud_run", "CloudRunJob"),
    "container_apps": ("dativo_infra.components.azure_container_apps", "ContainerAppsJob"),
    "kubernetes": ("dativo_infra.components.kubernetes_job", "KubernetesJob"),
}

# the provider SDKs the components use (each loads its submodules lazily, on first attribute access)
SDK_PACKAGES = ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native", "pulumi_kubernetes")
# submodules an SDK loads by itself while registering a resource, which no component names: every Kubernetes
# resource's metadata type (a string annotation, resolved when the SDK translates the resource's outputs)
SDK_OWN_USES = {"pulumi_kubernetes": (["pulumi_kubernetes", "meta", "v1"],)}


def component_class(runtime: str):
    try:
        module, name = COMPONENTS[runtime]
    except KeyError:
        raise NotImplementedError(f"no component for runtime {runtime!r} yet (available: {', '.join(sorted(COMPONENTS))})") from None
    return getattr(importlib.import_module(module), name)


def preload(runtimes: Iterable[str]) -> list[str]:
    """Import the components of ``runtimes`` and the provider SDK submodules their code uses; returns those submodules.

    The SDK packages load a submodule (``pulumi_aws.iam``: hundreds of classes)
    only when a program first touches it, so the first stack a process plans
    pays most of a second. A process that forks workers (``dativo_infra.fleet``)
    calls this first and its workers start with them loaded. The submodules are
    read from the components' own code (``aws.iam.Role`` in a function loads
    ``pulumi_aws.iam``), of SDK packages the components of these runtimes import:
    no list kept by hand. One it misses is still loaded when first used, only
    later. Unknown runtimes are ignored.
    """
    for runtime in runtimes:
        if runtime in COMPONENTS:
            importlib.import_module(COMPONENTS[runtime][0])
    loaded: list[str] = []
    ours = [m for name, m in list(sys.modules.items()) if name.startswith(__name__ + ".") and isinstance(m, types.ModuleType)]
    chains = [chain for module in ours for chain in _sdk_attribute_chains(module)]
    chains += [chain for uses in SDK_OWN_USES.values() for chain in uses]
    for chain in chains:
        if chain[0] in sys.modules:  # an SDK these runtimes' components import (lookups.py names every cloud's)
            loaded.extend(_load_chain(chain))
    for package in sorted(set(loaded)):
        # a component may pass plain dicts (Kubernetes metadata): their input types are read from the package's
        # _inputs when the first stack serialises them, which a package loaded lazily (sdk_loader) has not imported yet
        inputs = f"{package}._inputs"
        if inputs not in sys.modules and getattr(sys.modules.get(package), "__path__", None) and importlib.util.find_spec(inputs):
            importlib.import_module(inputs)
            loaded.append(inputs)
    return sorted(set(loaded))


def _sdk_attribute_chains(module: types.ModuleType) -> Iterator[list[str]]:
    """``[package, attr, attr...]`` for each use of an SDK module in ``module``'s code: ``aws.iam.Role`` → pulumi_aws, iam, Role."""
    import dis

    aliases = {name: value.__name__ for name, value in vars(module).items()
               if isinstance(value, types.ModuleType) and value.__name__ in SDK_PACKAGES}
    codes = [code for value in vars(module).values() for code in _codes_of(value, module.__name__)]
    stack, seen = list(codes), []
    while stack:  # nested functions and lambdas too
        code = stack.pop()
        seen.append(code)
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    # disassembling is most of the template's own time here: only code that names an SDK (or an alias of one) is read
    packages = frozenset(SDK_PACKAGES)
    for code in (c for c in seen if not packages.isdisjoint(c.co_names)):  # `import pulumi_aws as aws` inside a function
        instructions = list(dis.get_instructions(code))
        for first, second in zip(instructions, instructions[1:], strict=False):
            if first.opname == "IMPORT_NAME" and first.argval in SDK_PACKAGES and second.opname.startswith("STORE_"):
                aliases[second.argval] = first.argval
    for code in (c for c in seen if not aliases.keys().isdisjoint((*c.co_names, *c.co_varnames, *c.co_cellvars, *c.co_freevars))):
        chain: list[str] = []
        for instruction in dis.get_instructions(code):
            if instruction.opname in ("LOAD_ATTR", "LOAD_METHOD") and chain:
                chain.append(instruction.argval)
                continue
            if len(chain) > 1:
                yield chain
            chain = [aliases[instruction.argval]] if instruction.opname.startswith("LOAD_") and instruction.argval in aliases else []
        if len(chain) > 1:
            yield chain


def _codes_of(value: object, module: str) -> Iterator[types.CodeType]:
    if isinstance(value, type) and value.__module__ == module:
        for member in vars(value).values():
            yield from _codes_of(member, module)
        return
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    if isinstance(value, property):
        yield from (f.__code__ for f in (value.fget, value.fset, value.fdel) if isinstance(f, types.FunctionType))
    elif isinstance(value, types.FunctionType) and value.__module__ == module:
        yield value.__code__


def _load_chain(chain: list[str]) -> Iterator[str]:
    """Load ``pulumi_kubernetes.core.v1`` for ``[pulumi_kubernetes, core, v1, ServiceAccount]``: each prefix that is a submodule."""
    name = chain[0]
    for attribute in chain[1:]:
        parent, name = name, f"{name}.{attribute}"
        if name not in sys.modules and importlib.util.find_spec(name) is None:
            # a class or function: reading it loads its module where the package loads them lazily (sdk_loader)
            getattr(sys.modules.get(parent), attribute, None)
            return
        submodule = importlib.import_module(name)
        getattr(submodule, "__all__", None)  # the SDK's lazy module loads on its first attribute access
        yield name
