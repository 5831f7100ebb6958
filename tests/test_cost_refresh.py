"""cost prices --refresh: the parsers read the documented responses (tests/fixtures/cost/responses, constructed, see its README),
fetching fails fast and names the URL, and the written file is ours alone to replace."""
from __future__ import annotations

import json
import socket
import threading
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from dativo_infra.cost.refresh import (
    RefreshError,
    aws,
    azure,
    gcp,
    gcp_api_key,
    http_fetch,
    is_refreshed_file,
    redact,
    refresh_prices,
    refresh_target,
)
from dativo_infra.errors import Problem

RESPONSES = Path(__file__).parent / "fixtures" / "cost" / "responses"
DAY = "2026-12-04"


def recorded(routes: dict[str, str]):
    """A fetch that answers from response files by the longest matching URL prefix, and records what was asked."""
    asked: list[str] = []

    def fetch(url: str) -> bytes:
        asked.append(url)
        for prefix in sorted(routes, key=len, reverse=True):
            if url.startswith(prefix):
                return (RESPONSES / routes[prefix]).read_bytes()
        raise AssertionError(f"unexpected URL {url}")

    fetch.asked = asked  # type: ignore[attr-defined]
    return fetch


def rates(result) -> dict[tuple[str, str], str]:
    return {(p["item"], p["region"]): p["price"] for p in result.as_dict()["prices"]}


def test_aws_offer_file_gives_the_fargate_rates_and_skips_windows_and_spot():
    fetch = recorded({aws.offer_url("us-east-1"): "aws-AmazonECS-us-east-1.json"})
    result = refresh_prices("aws", fetch=fetch, read_on=DAY)
    assert rates(result) == {
        ("fargate.vcpu_hour.x86_64", "us-east-1"): "0.04048",
        ("fargate.gb_hour.x86_64", "us-east-1"): "0.004445",
        ("fargate.vcpu_hour.arm64", "us-east-1"): "0.03238",
        ("fargate.gb_hour.arm64", "us-east-1"): "0.00356",
        ("fargate.ephemeral_storage_gb_hour", "us-east-1"): "0.000111",
    }
    assert result.notes == []
    entry = result.as_dict()["prices"][0]
    assert entry["source"] == aws.offer_url("us-east-1") and entry["read_on"] == DAY and entry["quality"] == "primary"
    assert entry["service"] == "AWS Fargate"


def test_aws_region_missing_from_the_offer_file_is_a_note_and_an_empty_refresh_is_an_error():
    fetch = recorded({aws.offer_url("eu-west-1"): "aws-AmazonECS-us-east-1.json"})  # the us-east-1 file under another region's URL
    with pytest.raises(RefreshError, match="none of the prices"):
        refresh_prices("aws", regions=["eu-west-1"], fetch=fetch, read_on=DAY)


def test_aws_two_prices_for_one_rate_are_refused_not_guessed():
    data = json.loads((RESPONSES / "aws-AmazonECS-us-east-1.json").read_text())
    dims = data["terms"]["OnDemand"]["TESTSKUX86VCPU01"]["TESTSKUX86VCPU01.JRTCKXETXF"]["priceDimensions"]
    dims["second"] = {"unit": "hours", "pricePerUnit": {"USD": "0.05"}}
    with pytest.raises(RefreshError, match="expected one on-demand USD price"):
        aws.parse_offer(json.loads(json.dumps(data), parse_float=Decimal), "us-east-1", "u", DAY)


def test_aws_rejects_a_region_that_is_not_an_id():
    with pytest.raises(RefreshError, match="not an AWS region id"):
        refresh_prices("aws", regions=["../../etc"], fetch=recorded({}), read_on=DAY)


def test_gcp_catalog_pages_give_per_region_jobs_rates_and_one_free_grant():
    fetch = recorded({gcp.skus_url("K"): "gcp-cloud-run-skus-page1.json", gcp.skus_url("K", "TEST_PAGE_2"): "gcp-cloud-run-skus-page2.json"})
    result = refresh_prices("gcp", fetch=fetch, api_key="K", read_on=DAY)
    assert rates(result) == {
        ("cloud_run.vcpu_second", "us-central1"): "0.000018",
        ("cloud_run.gib_second", "us-central1"): "0.000002",
        ("cloud_run.vcpu_second", "europe-west2"): "0.0000252",
        ("cloud_run.gib_second", "europe-west2"): "0.0000028",
    }  # the commitment SKU (Commit1Yr), the Services and Worker Pools SKUs are not jobs' on-demand rates
    grants = {g["item"]: g["quantity"] for g in result.as_dict()["free_grants"]}
    assert grants == {"cloud_run.free.vcpu_second": "240000", "cloud_run.free.gib_second": "450000"}
    assert len(fetch.asked) == 2
    assert all(p["source"] == gcp.SKUS_URL for p in result.as_dict()["prices"])  # the key is never written


def test_gcp_region_filter_and_missing_region_note():
    fetch = recorded({gcp.skus_url("K"): "gcp-cloud-run-skus-page1.json", gcp.skus_url("K", "TEST_PAGE_2"): "gcp-cloud-run-skus-page2.json"})
    result = refresh_prices("gcp", regions=["us-central1", "asia-east9"], fetch=fetch, api_key="K", read_on=DAY)
    assert {r for _, r in rates(result)} == {"us-central1"}
    assert result.notes == ["asia-east9: no 'Jobs CPU in asia-east9' or 'Jobs Memory in asia-east9' SKU in the catalog"]


def test_gcp_needs_an_api_key_from_the_named_variable():
    with pytest.raises(RefreshError, match="needs an API key: put it in the environment variable MY_KEY"):
        gcp_api_key("MY_KEY", environ={})
    assert gcp_api_key("MY_KEY", environ={"MY_KEY": " abc "}) == "abc"


def test_azure_pages_give_active_rates_and_the_subscription_free_grant():
    first = azure.prices_url(["eastus"])
    fetch = recorded({first: "azure-container-apps-page1.json", "https://prices.azure.com:443/": "azure-container-apps-page2.json"})
    result = refresh_prices("azure", regions=["eastus"], fetch=fetch, read_on=DAY)
    assert rates(result) == {("container_apps.vcpu_second", "eastus"): "0.000024", ("container_apps.gib_second", "eastus"): "0.000003"}
    grants = {g["item"]: (g["quantity"], g["unit"]) for g in result.as_dict()["free_grants"]}
    assert grants == {"container_apps.free.vcpu_second": ("180000", "vCPU-second per month"),
                      "container_apps.free.gib_second": ("360000", "GiB-second per month")}
    assert len(fetch.asked) == 2  # followed NextPageLink once, stopped at null


def test_azure_url_filters_service_consumption_and_regions():
    url = azure.prices_url(["eastus", "westeurope"])
    assert url.startswith("https://prices.azure.com/api/retail/prices?currencyCode=%27USD%27&%24filter=")
    assert "serviceName%20eq%20%27Azure%20Container%20Apps%27" in url and "armRegionName%20eq%20%27westeurope%27" in url
    with pytest.raises(RefreshError, match="not an Azure region name"):
        azure.prices_url(["east us' or 1 eq 1"])


def test_azure_next_page_link_to_another_host_is_not_followed():
    def fetch(url: str) -> bytes:
        return b'{"Items": [], "NextPageLink": "https://attacker.example/api"}'

    with pytest.raises(RefreshError, match="leaves https://prices.azure.com"):
        refresh_prices("azure", fetch=fetch, read_on=DAY)


def test_a_response_that_is_not_json_or_not_the_shape_names_the_url():
    with pytest.raises(RefreshError) as caught:
        refresh_prices("azure", fetch=lambda url: b"<html>captive portal</html>", read_on=DAY)
    assert "not JSON" in str(caught.value) and caught.value.problems[0].file.startswith(azure.PRICES_URL)
    with pytest.raises(RefreshError, match="not an AmazonECS offer file"):
        refresh_prices("aws", fetch=lambda url: b'{"offerCode": "AmazonEC2", "products": {}}', read_on=DAY)
    with pytest.raises(RefreshError, match="skus.list"):
        refresh_prices("gcp", fetch=lambda url: b"[]", api_key="K", read_on=DAY)


def test_unknown_cloud_is_refused():
    with pytest.raises(RefreshError, match="choose one of aws, gcp, azure"):
        refresh_prices("kubernetes", fetch=recorded({}), read_on=DAY)


def test_api_key_is_redacted_from_every_message():
    assert redact("https://x/skus?currencyCode=USD&key=SECRET&pageToken=t") == "https://x/skus?currencyCode=USD&key=***&pageToken=t"

    def fetch(url: str) -> bytes:
        return b"not json"

    with pytest.raises(RefreshError) as caught:
        refresh_prices("gcp", fetch=fetch, api_key="SECRET", read_on=DAY)
    assert "SECRET" not in str(caught.value) and "key=***" in str(caught.value)


# the written file: the shipped tables' format, read by the one loader


ALL_RESPONSES = {
    "aws": ({aws.offer_url("us-east-1"): "aws-AmazonECS-us-east-1.json"}, {}),
    "gcp": ({gcp.skus_url("K"): "gcp-cloud-run-skus-page1.json", gcp.skus_url("K", "TEST_PAGE_2"): "gcp-cloud-run-skus-page2.json"},
            {"api_key": "K"}),
    "azure": ({azure.prices_url(["eastus"]): "azure-container-apps-page1.json", "https://prices.azure.com:443/": "azure-container-apps-page2.json"},
              {"regions": ["eastus"]}),
}


@pytest.mark.parametrize("cloud", sorted(ALL_RESPONSES))
def test_refreshed_file_loads_as_a_prices_overlay_and_equals_the_shipped_table_where_the_response_agrees(cloud, tmp_path):
    from dativo_infra.cost import load_prices

    routes, options = ALL_RESPONSES[cloud]
    result = refresh_prices(cloud, fetch=recorded(routes), read_on=DAY, **options)
    path = tmp_path / f"{cloud}.yaml"
    path.write_text(result.render())
    shipped, overlaid = load_prices(), load_prices(str(path))  # the loader's own validation (schema, 12 decimals, dates)
    for entry in result.as_dict()["prices"]:
        refreshed = overlaid.price(entry["item"], entry["region"])
        assert (refreshed.price, refreshed.quality, refreshed.file) == (Decimal(entry["price"]), "primary", str(path))
        # every response file carries the shipped figures (us-east-1 Fargate, Cloud Run tiers 1 and 2 via us-central1 and
        # europe-west2, Container Apps eastus): the refresh reproduces the table exactly
        assert shipped.price(entry["item"], entry["region"]).price == refreshed.price, entry
    for grant in result.as_dict().get("free_grants", []):
        assert overlaid.free_grants[grant["item"]].quantity == shipped.free_grants[grant["item"]].quantity
        assert overlaid.free_grants[grant["item"]].applies_to == shipped.free_grants[grant["item"]].applies_to



def test_rendered_file_is_the_price_table_format_with_decimal_strings(tmp_path):
    fetch = recorded({aws.offer_url("us-east-1"): "aws-AmazonECS-us-east-1.json"})
    text = refresh_prices("aws", fetch=fetch, read_on=DAY).render()
    assert text.startswith("# Generated by dativo-infra cost prices --refresh")
    data = yaml.safe_load(text)
    assert data["cloud"] == "aws" and data["currency"] == "USD"
    assert all(isinstance(p["price"], str) and isinstance(p["read_on"], str) for p in data["prices"])  # strings: Decimal, never float
    assert set(data["prices"][0]) == {"item", "service", "region", "unit", "price", "source", "read_on", "quality"}
    path = tmp_path / "aws.yaml"
    path.write_text(text)
    assert is_refreshed_file(str(path))


def test_output_never_replaces_a_file_the_refresh_did_not_write(tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("cloud: aws\nprices: []\n")
    with pytest.raises(RefreshError, match="was not written by cost prices --refresh"):
        refresh_target(str(mine))
    with pytest.raises(RefreshError, match="not a regular file"):
        refresh_target(str(tmp_path))
    ours = tmp_path / "ours.yaml"
    ours.write_text("# Generated by dativo-infra cost prices --refresh (aws)\ncloud: aws\n")
    assert refresh_target(str(ours)) == str(ours.resolve())
    assert refresh_target(str(tmp_path / "new.yaml")) == str((tmp_path / "new.yaml").resolve())


# the real fetch, against local sockets only


def test_offline_fetch_fails_at_once_naming_the_url():
    with socket.socket() as probe:  # a port nothing listens on: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(RefreshError) as caught:
        http_fetch(f"http://127.0.0.1:{port}/prices", timeout=2)
    assert caught.value.problems[0].file == f"http://127.0.0.1:{port}/prices"
    assert "cannot reach the price API" in caught.value.problems[0].message


def test_a_server_that_never_answers_is_given_up_on():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        release = threading.Event()

        def accept_and_stall():
            conn, _ = server.accept()
            release.wait(30)  # hold the connection open, say nothing
            conn.close()

        threading.Thread(target=accept_and_stall, daemon=True).start()
        try:
            with pytest.raises(RefreshError, match="no answer within"):
                http_fetch(f"http://127.0.0.1:{port}/stall", timeout=0.3, total=1)
        finally:
            release.set()


# the command: dativo-infra cost prices --refresh


def run_prices(args, monkeypatch, fetch=None):
    from click.testing import CliRunner

    import dativo_infra.cost.refresh as refresh
    from dativo_infra.cli.cost_extras import prices

    if fetch is not None:
        monkeypatch.setattr(refresh, "http_fetch", lambda url, timeout: fetch(url))
    return CliRunner().invoke(prices, args)


def test_cli_writes_the_file_and_a_second_refresh_replaces_it(tmp_path, monkeypatch):
    fetch = recorded({aws.offer_url("us-east-1"): "aws-AmazonECS-us-east-1.json"})
    out = tmp_path / "aws-prices.yaml"
    for _ in range(2):
        result = run_prices(["--refresh", "--cloud", "aws", "--output", str(out)], monkeypatch, fetch)
        assert result.exit_code == 0, result.output
        assert f"wrote {out}: 5 prices, 0 free grants (aws)" in result.output
    assert yaml.safe_load(out.read_text())["prices"][0]["quality"] == "primary"


def test_cli_offline_is_exit_1_naming_the_url_and_writes_nothing(tmp_path, monkeypatch):
    def offline(url: str) -> bytes:
        raise RefreshError([Problem(url, "cannot reach the price API")])

    out = tmp_path / "azure.yaml"
    result = run_prices(["--refresh", "--cloud", "azure", "--output", str(out), "--json"], monkeypatch, offline)
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False and data["errors"][0]["file"].startswith("https://prices.azure.com/api/retail/prices")
    assert not out.exists()


def test_cli_refuses_a_file_it_did_not_write_before_fetching_anything(tmp_path, monkeypatch):
    out = tmp_path / "aws.yaml"
    out.write_text("cloud: aws\n")
    result = run_prices(["--refresh", "--cloud", "aws", "--output", str(out)], monkeypatch, recorded({}))
    assert result.exit_code == 2 and "was not written by cost prices --refresh" in result.output
    assert out.read_text() == "cloud: aws\n"


def test_cli_gcp_without_the_key_variable_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    result = run_prices(["--refresh", "--cloud", "gcp", "--output", "-", "--api-key-env", "NO_SUCH_KEY_VAR"], monkeypatch, recorded({}))
    assert result.exit_code == 2 and "needs an API key: put it in the environment variable NO_SUCH_KEY_VAR" in result.output


def test_cli_usage_errors(monkeypatch):
    assert run_prices(["--cloud", "aws"], monkeypatch).exit_code == 2
    assert run_prices(["--refresh", "--cloud", "aws"], monkeypatch).exit_code == 2


def test_cli_without_refresh_lists_the_prices_in_use_with_their_sources(monkeypatch):
    result = run_prices([], monkeypatch)
    assert result.exit_code == 0
    assert "fargate.vcpu_hour.x86_64           us-east-1   0.04048" in result.output and "https://" in result.output
    data = json.loads(run_prices(["--json"], monkeypatch).output)
    assert {(p["item"], p["region"]) for p in data["prices"]} >= {("fargate.vcpu_hour.arm64", "us-east-1"), ("cloud_run.vcpu_second", "tier2")}
    assert all(isinstance(p["price"], str) for p in data["prices"])


def test_cli_shows_each_refreshed_price_beside_the_one_in_use(tmp_path, monkeypatch):
    data = json.loads((RESPONSES / "aws-AmazonECS-us-east-1.json").read_text())
    dims = data["terms"]["OnDemand"]["TESTSKUX86VCPU01"]["TESTSKUX86VCPU01.JRTCKXETXF"]["priceDimensions"]
    next(iter(dims.values()))["pricePerUnit"]["USD"] = "0.0500000000"
    body = json.dumps(data).encode()
    eu = json.dumps(data).replace('"us-east-1"', '"eu-west-1"').encode()
    fetch = lambda url: eu if "eu-west-1" in url else body  # noqa: E731
    result = run_prices(["--refresh", "--cloud", "aws", "--region", "us-east-1", "--region", "eu-west-1", "--output", str(tmp_path / "p.yaml")],
                        monkeypatch, fetch)
    assert result.exit_code == 0, result.output
    assert "  changed: fargate.vcpu_hour.x86_64 us-east-1: 0.05 per vCPU-hour; now 0.04048 (us-east-1)" in result.output
    assert "  new: fargate.gb_hour.arm64 eu-west-1: 0.00356 per GB-hour; no price in the tables" in result.output
    assert "  4 prices the same as in use now" in result.output


def test_cost_prices_is_reached_through_cost_and_cost_help_names_the_extras():
    from click.testing import CliRunner

    from dativo_infra.cli import cli as group

    result = CliRunner().invoke(group, ["cost", "prices", "--help"], prog_name="dativo-infra")
    assert result.exit_code == 0 and "Usage: dativo-infra cost prices [OPTIONS]" in result.output and "--refresh" in result.output
    result = CliRunner().invoke(group, ["cost", "--help"])
    assert result.exit_code == 0 and "--tfvars DIR" in result.output and "--compare-to REF" in result.output
    assert "cost prices [--refresh]" in result.output


class _Server:
    """A local HTTP server in a thread answering every GET with (status, body)."""

    def __init__(self, status: int, body: bytes):
        import http.server

        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the stdlib's name)
                outer.paths.append(self.path)
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.paths: list[str] = []
        self.httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_the_real_fetch_reads_a_whole_response_and_reports_http_errors():
    body = (RESPONSES / "azure-container-apps-page1.json").read_bytes()
    with _Server(200, body) as server:
        assert http_fetch(server.url + "/api/retail/prices?x=1", timeout=5) == body
        assert server.paths == ["/api/retail/prices?x=1"]
        with pytest.raises(RefreshError, match="larger than 1,000 bytes"):
            http_fetch(server.url + "/big", timeout=5, max_bytes=1000)
    with _Server(403, b'{"error": "API key not valid"}') as server:
        with pytest.raises(RefreshError) as caught:
            http_fetch(server.url + "/v1/services/x/skus?key=SECRET", timeout=5)
    message = caught.value.problems[0].render()
    assert "HTTP 403" in message and "needs a valid API key" in message and "SECRET" not in message


def test_azure_default_regions_are_those_the_shipped_table_prices_and_a_different_price_shows_as_changed():
    from dativo_infra.cost import load_prices

    fetch = recorded({azure.prices_url(["eastus", "westeurope"]): "azure-container-apps-page1.json",
                      "https://prices.azure.com:443/": "azure-container-apps-page2.json"})
    result = refresh_prices("azure", fetch=fetch, read_on=DAY)
    assert fetch.asked[0] == azure.prices_url(["eastus", "westeurope"])
    assert rates(result)[("container_apps.vcpu_second", "westeurope")] == "0.000034"
    assert result.notes == ["westeurope: no 'Standard Memory Active Usage' meter in the response"]  # said, and not guessed
    assert ("container_apps.gib_second", "westeurope") not in rates(result)
    changes = {(c["item"], c["region"]): c for c in result.changes(load_prices())}
    assert changes[("container_apps.vcpu_second", "westeurope")]["status"] == "changed"
    assert changes[("container_apps.vcpu_second", "westeurope")]["current"] == "0.000024"
    assert changes[("container_apps.vcpu_second", "eastus")]["status"] == "same"
