"""``dativo-infra cost prices --refresh``: current prices from the providers' public price APIs, written as a price file."""
from __future__ import annotations

from typing import Optional

import click

from .common import EXIT_FAILED, EXIT_INVALID, emit_json, fail

REFRESH_CLOUDS = ("aws", "gcp", "azure")


@click.command("prices")
@click.option("--refresh", is_flag=True, help="Fetch current prices from the provider's public price API (needs the network).")
@click.option("--cloud", type=click.Choice(REFRESH_CLOUDS), default=None,
              help="aws: AWS Price List Bulk API (Fargate); gcp: Cloud Billing Catalog API (Cloud Run jobs; needs an API key); "
                   "azure: Azure Retail Prices API (Container Apps).")
@click.option("--region", "regions", multiple=True, metavar="REGION",
              help="Provider region id, repeatable (default: us-east-1 for aws, every region for gcp, eastus for azure).")
@click.option("--output", default=None, type=click.Path(dir_okay=False, allow_dash=True),
              help="The price file to write (for cost --prices FILE); - for standard output. An existing file is replaced only "
                   "if an earlier refresh wrote it.")
@click.option("--api-key-env", default="DATIVO_GCP_BILLING_API_KEY", show_default=True, metavar="NAME",
              help="With --cloud gcp: the environment variable that holds the Cloud Billing Catalog API key (never a command-line value).")
@click.option("--timeout", type=click.FloatRange(min=0.1, max=120), default=10.0, show_default=True,
              help="Seconds to wait for a connection or a read; each request gives up after 6 times this.")
@click.option("--json", "as_json", is_flag=True, help="Report the prices written as JSON.")
def prices(refresh: bool, cloud: Optional[str], regions: tuple[str, ...], output: Optional[str], api_key_env: str, timeout: float,
           as_json: bool) -> None:
    """Refresh a cloud's prices from its public price API into a price file (docs/cost-refresh.md).

    Offline, it fails within seconds and names the URL it could not reach (exit 1).
    """
    if not refresh:
        raise click.UsageError("cost prices takes --refresh (with --cloud and --output): the shipped tables are dativo_infra/cost/prices/*.yaml")
    if cloud is None or output is None:
        raise click.UsageError("--refresh needs --cloud aws|gcp|azure and --output FILE (or - for standard output)")
    from ..cost.refresh import RefreshError, gcp_api_key, http_fetch, refresh_prices, refresh_target
    from ..fsafe import write_atomic

    try:
        target = None if output == "-" else refresh_target(output)  # before any request: a refused path costs no download
        key = gcp_api_key(api_key_env) if cloud == "gcp" else None
    except RefreshError as exc:
        fail(exc.problems, as_json, EXIT_INVALID)
    try:
        result = refresh_prices(cloud, regions=regions, api_key=key, fetch=lambda url: http_fetch(url, timeout=timeout))
    except RefreshError as exc:
        fail(exc.problems, as_json, EXIT_FAILED)
    text = result.render()
    if target is None:
        click.echo(text, nl=False)
    else:
        try:
            write_atomic(target, text)
        except OSError as exc:
            from ..errors import Problem

            fail([Problem(output, f"cannot write: {exc.strerror or exc}")], as_json, EXIT_FAILED)
    for note in result.notes:
        click.echo(f"warning: {note}", err=True)
    if as_json and target is not None:
        emit_json({"ok": True, "output": output, **result.as_dict(), "notes": result.notes})
    elif target is not None:
        click.echo(f"wrote {output}: {len(result.prices)} prices, {len(result.free_grants)} free grants ({cloud})")
