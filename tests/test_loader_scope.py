"""Loading for one tenant and environment builds only what can be theirs, and reports only their problems."""
from __future__ import annotations

from dativo_infra.jobs import load_jobs

GOOD = "tenant_id: {tenant}\nenvironment: {env}\n"


def test_another_tenants_invalid_or_unparseable_file_is_not_this_tenants_problem(write, tmp_path):
    write("jobs/acme/a.yaml", GOOD.format(tenant="acme", env="prod"))
    write("jobs/globex/bad-model.yaml", "tenant_id: globex\nenvironment: prod\ninfrastructure: {provider: ibm}\n")
    write("jobs/globex/bad-yaml.yaml", "tenant_id: globex\nenvironment: prod\nsource: [unclosed\n")
    result = load_jobs([str(tmp_path / "jobs")], tenant="acme", environment="prod")
    assert result.ok, result.problems
    assert [j.name for j in result.jobs] == ["a"]
    everyone = load_jobs([str(tmp_path / "jobs")])
    assert {p.file.rsplit("/", 1)[-1] for p in everyone.problems} == {"bad-model.yaml", "bad-yaml.yaml"}


def test_another_environments_file_is_skipped(write, tmp_path):
    write("jobs/acme/a.yaml", GOOD.format(tenant="acme", env="prod"))
    write("jobs/acme/b.yaml", "tenant_id: acme\nenvironment: staging\ninfrastructure: {provider: ibm}\n")
    result = load_jobs([str(tmp_path / "jobs")], tenant="acme", environment="prod")
    assert result.ok and [j.name for j in result.jobs] == ["a"]


def test_a_file_whose_tenant_cannot_be_told_fails_every_tenant(write, tmp_path):
    write("jobs/acme/a.yaml", GOOD.format(tenant="acme", env="prod"))
    write("jobs/x/garbage.yaml", b"tenant_id: \xff\xfe\n")
    write("jobs/x/no-tenant-line.yaml", "environment: prod\nsource: [unclosed\n")
    result = load_jobs([str(tmp_path / "jobs")], tenant="acme", environment="prod")
    assert {p.file.rsplit("/", 1)[-1] for p in result.problems} == {"garbage.yaml", "no-tenant-line.yaml"}


def test_a_file_too_big_to_read_is_the_problem_of_the_tenant_its_first_lines_name(write, tmp_path):
    from dativo_infra.jobs.files import MAX_FILE_BYTES

    write("jobs/acme/a.yaml", GOOD.format(tenant="acme", env="prod"))
    write("jobs/globex/huge.yaml", "tenant_id: globex\nenvironment: prod\n" + "#" * (MAX_FILE_BYTES + 1))
    write("jobs/x/huge-nameless.yaml", "#" * (MAX_FILE_BYTES + 1))
    acme = load_jobs([str(tmp_path / "jobs")], tenant="acme", environment="prod")
    assert {p.file.rsplit("/", 1)[-1] for p in acme.problems} == {"huge-nameless.yaml"}  # no tenant line: everyone's
    globex = load_jobs([str(tmp_path / "jobs")], tenant="globex", environment="prod")
    assert {p.file.rsplit("/", 1)[-1] for p in globex.problems} == {"huge.yaml", "huge-nameless.yaml"}
    assert any("at most" in p.message for p in globex.problems if p.file.endswith("huge.yaml"))


def test_shared_files_are_built_for_the_tenant(write, tmp_path):
    write("jobs/acme/a.yaml", GOOD.format(tenant="acme", env="prod"))
    write("jobs/shared/s.yaml", 'tenant_id: "${TENANT_ID}"\nenvironment: prod\n')
    result = load_jobs([str(tmp_path / "jobs")], tenant="globex", environment="prod")
    assert [(j.name, j.tenant) for j in result.jobs] == [("s", "globex")]
