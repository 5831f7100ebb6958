"""Which resource classes accept tags, read from the provider SDK classes themselves.

The provider SDKs are generated from the provider schemas, so a class's
``_internal_init`` parameters say exactly which inputs it takes. Reading them
keeps the answer current with the installed provider version, where a
hand-kept list of taggable types would drift.
"""
from __future__ import annotations

from functools import cache
from typing import Optional

# module prefix of a provider SDK → the tag format of its cloud and the input that carries tags
_SDKS = (
    ("pulumi_aws", "aws", "tags"),
    ("pulumi_azure_native", "azure", "tags"),
    ("pulumi_gcp", "gcp", "labels"),  # GCP `tags` are network tags or tag bindings, not key/value labels
    ("pulumi_kubernetes", "kubernetes", "metadata"),
)


@cache
def tag_input(cls: type) -> Optional[tuple[str, str]]:
    """``(cloud, input name)`` if instances of ``cls`` accept tags, else None."""
    module = cls.__module__
    for prefix, cloud, name in _SDKS:
        if module == prefix or module.startswith(prefix + "."):
            init = getattr(cls, "_internal_init", None)
            code = getattr(init, "__code__", None)
            if code is None:
                return None
            params = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
            return (cloud, name) if name in params else None
    return None
