"""``dativo-infra cost prices --refresh``: read current prices from the providers' public price APIs.

How to use it::

    from dativo_infra.cost.refresh import refresh_prices, refresh_target
    from dativo_infra.fsafe import write_atomic

    prices = refresh_prices("azure", regions=["eastus"])       # RefreshError when offline, naming the URL
    write_atomic(refresh_target("prices-azure.yaml"), prices.render())

One module per cloud parses its API's documented response (:mod:`.aws`: the AWS Price List Bulk
API's AmazonECS offer file; :mod:`.gcp`: the Cloud Billing Catalog API, which needs an API key;
:mod:`.azure`: the Azure Retail Prices API). Every request goes through one ``fetch`` function
(:func:`.http.http_fetch`: stdlib ``urllib``, short timeouts, a whole-request deadline), which tests
replace with recorded responses. The result is a :class:`PriceFile` in the format of the shipped
tables (``dativo_infra/cost/prices/<cloud>.yaml``), to be used with ``cost --prices FILE``.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Optional

from ...errors import Problem
from . import aws, azure, gcp
from .http import Fetch, RefreshError, http_fetch, redact
from .pricefile import HEADER, PriceFile, RefreshedGrant, RefreshedPrice, is_refreshed_file, refresh_target

__all__ = ["CLOUDS", "HEADER", "Fetch", "PriceFile", "RefreshError", "RefreshedGrant", "RefreshedPrice", "gcp_api_key",
           "http_fetch", "is_refreshed_file", "redact", "refresh_prices", "refresh_target"]

CLOUDS = ("aws", "gcp", "azure")  # Kubernetes node prices come from the stack config, not from an API


def gcp_api_key(env_var: str = gcp.API_KEY_ENV, environ: Optional[dict[str, str]] = None) -> str:
    """The Cloud Billing Catalog API key, read from the environment variable ``env_var`` (never from a command-line value,
    which would land in shell history and the process list)."""
    value = (os.environ if environ is None else environ).get(env_var, "").strip()
    if not value:
        raise RefreshError([Problem(gcp.SKUS_URL, f"the Cloud Billing Catalog API needs an API key: put it in the environment variable {env_var} "
                                                  "(or name another variable with --api-key-env); create one in a Google Cloud project "
                                                  "with the Cloud Billing API enabled")])
    return value


def refresh_prices(cloud: str, *, regions: Iterable[str] = (), fetch: Fetch = http_fetch, api_key: Optional[str] = None,
                   read_on: Optional[str] = None) -> PriceFile:
    """Fetch and parse one cloud's current prices. Raises :class:`RefreshError` (offline, HTTP error, unexpected response).

    ``regions``: provider region ids (aws ``us-east-1``, gcp ``us-central1``, azure ``eastus``); the default is
    us-east-1 for AWS, every region in the catalog for GCP, eastus and westeurope for Azure (the regions the shipped tables
    price). ``read_on`` (ISO date) defaults to today (UTC).
    """
    day = read_on or datetime.now(timezone.utc).date().isoformat()
    if cloud == "aws":
        result = aws.refresh(fetch, day, regions)
    elif cloud == "gcp":
        result = gcp.refresh(fetch, day, api_key if api_key is not None else gcp_api_key(), regions)
    elif cloud == "azure":
        result = azure.refresh(fetch, day, regions)
    else:
        raise RefreshError([Problem("--cloud", f"{cloud!r} has no price API here; choose one of {', '.join(CLOUDS)}")])
    if not result.prices:
        raise RefreshError([Problem(cloud, "the price API answered, but with none of the prices the estimator uses: "
                                           + ("; ".join(result.notes) or "nothing matched"))])
    return result
