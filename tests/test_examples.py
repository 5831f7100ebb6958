"""Every example job in jobs/ and every upstream reference job loads."""
from __future__ import annotations

from dativo_infra.jobs import discover, load_jobs

from .conftest import JOBS


def test_every_example_job_validates(cli):
    code, out, err = cli("validate", JOBS)
    assert code == 0, out + err
    assert "0 files with errors" in err
    files = discover([str(JOBS)])
    assert len(files) >= 6
    assert all("assets" not in f.split("/") for f in files)


def test_examples_cover_every_runtime_and_two_tenants():
    result = load_jobs([str(JOBS)])
    assert result.ok, result.problems
    runtimes = {(j.infrastructure.provider, j.runtime) for j in result.jobs if j.infrastructure}
    assert {("aws", "ecs"), ("gcp", "cloud_run"), ("azure", "container_apps"), ("aws", "kubernetes")} <= runtimes
    assert {j.tenant for j in result.jobs} >= {"acme", "globex"}


def test_shared_job_file_loads_once_per_tenant():
    result = load_jobs([str(JOBS)])
    shared = [j for j in result.jobs if j.shared]
    files = {j.path for j in shared}
    assert len(files) >= 2  # the ECS and the Kubernetes shared examples
    for path in files:
        assert sorted(j.tenant for j in shared if j.path == path) == ["acme", "globex"], path
    prefixes = {j.tenant: j.infrastructure.storage.prefix for j in shared if j.name == "stripe-customers-shared"}
    assert prefixes == {"acme": "acme/raw/stripe/customers", "globex": "globex/raw/stripe/customers"}


def test_every_reference_job_loads(reference_jobs):
    result = load_jobs([str(reference_jobs / "jobs")])
    assert result.ok, "\n".join(p.render() for p in result.problems)
    assert len(result.files) == len(list((reference_jobs / "jobs").glob("*.yaml")))
    names = {j.name for j in result.jobs}
    assert "stripe-customers-to-iceberg-no-infrastructure" in names


def test_job_without_infrastructure_is_valid_and_says_so(cli, reference_jobs):
    code, out, _ = cli("validate", reference_jobs / "jobs" / "stripe_customers_to_iceberg_no_infrastructure.yaml")
    assert code == 0
    assert "no infrastructure block, nothing to provision" in out


def test_each_asset_file_is_read_once(reference_jobs):
    from dativo_infra.jobs.assets import AssetCache
    from dativo_infra.jobs.loader import build_job, parse_file

    cache = AssetCache(str(reference_jobs / "assets"))
    files = sorted((reference_jobs / "jobs").glob("stripe*.yaml"))
    for path in files:
        build_job(parse_file(str(path)), cache, {})
    assert len(files) >= 3
    assert cache.reads == 1


def test_runner_only_fields_are_left_untouched(reference_jobs):
    result = load_jobs([str(reference_jobs / "jobs" / "stripe_customers_aws.yaml")], environ={})
    job = result.jobs[0]
    assert job.config.target["connection"]["nessie"]["uri"] == "${NESSIE_URI}"
