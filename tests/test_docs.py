"""The docs stay true to the code: generated tables are current, names and types match, examples run."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from dativo_infra import docs
from dativo_infra.jobs import load_job, load_jobs
from dativo_infra.tags import FORMATS, LEVELS, LIST_SEPARATOR
from dativo_infra.variables import COMMON_VARIABLES, RUNTIME_VARIABLES, generated_names

from .conftest import JOBS, ROOT
from .plans import resolved, variables_of
from .tfconsole import type_of

DOCS = ROOT / "docs"


def read(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def table_rows(text: str, heading: str) -> list[list[str]]:
    """The body rows of the first table after ``heading``, as cells."""
    section = text.split(heading, 1)[1]
    rows = []
    for line in section.splitlines():
        if line.startswith("|"):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
        elif rows:
            break
    return rows[2:]


# --- job-file.md ----------------------------------------------------------------------------------


def test_field_tables_are_generated_from_the_models():
    current = read("job-file.md")
    assert docs.splice(current, docs.render()) == current, "docs/job-file.md field tables are stale: run python -m dativo_infra.docs"


def test_every_model_field_is_described():
    for _, _, model, _ in docs.SECTIONS:
        for name, info in model.model_fields.items():
            assert info.description, f"{model.__name__}.{name} has no description (it is the job file reference)"


def test_every_model_has_a_table():
    from pydantic import BaseModel

    from dativo_infra.jobs import models

    defined = {cls for cls in vars(models).values() if isinstance(cls, type) and issubclass(cls, BaseModel) and cls.__module__ == models.__name__}
    assert defined - {model for _, _, model, _ in docs.SECTIONS} <= {models._Strict, models._Open}


def test_the_example_job_is_valid(tmp_path):
    (example,) = [b for b in blocks(read("job-file.md"), "yaml") if "tenant_id:" in b]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    job = load_job(str(path), assets_dir=str(JOBS / "assets"))
    variables = variables_of(job)
    assert (variables["runtime_type"], variables["cpu_units"], variables["compute_memory"]) == ("ecs", 1024, 2048)
    assert variables["schedule_cron"] == "0 2 * * *" and variables["schedule_timezone"] == "UTC"
    assert job.asset_file == str(JOBS / "assets" / "stripe" / "v1.0" / "customers.yaml")


@pytest.mark.parametrize("name", ["job-file.md", "tags.md"])
def test_documented_commands_run(name, cli, monkeypatch):
    monkeypatch.chdir(ROOT)
    commands = [line.split("#")[0].strip() for block in blocks(read(name), "sh") for line in block.splitlines()]
    commands = [c for c in commands if c.startswith("dativo-infra ")]
    assert commands
    for command in commands:
        code, out, err = cli(*shlex.split(command)[1:])
        assert code == 0, (command, out, err)


def test_the_documented_size_spellings():
    from dativo_infra.jobs.sizes import SizeError, parse_cpu, parse_memory

    text = read("job-file.md")
    assert parse_cpu("2048") == 2000 and parse_cpu("500m") == 500 and parse_cpu("0.5") == 500
    assert parse_memory("4Gi") == parse_memory("4GB") == parse_memory("4096") == 4096
    with pytest.raises(SizeError):
        parse_memory("4G")
    assert '`"4G"` is 3814.7 MiB: an error' in text and '`"4GB"` = 4096 MiB' in text


# --- variables.md ----------------------------------------------------------------------------------


def documented_variables() -> dict[str, tuple[str, set[str]]]:
    text = read("variables.md")
    out: dict[str, tuple[str, set[str]]] = {}
    for cells in table_rows(text, "## Every job"):
        out[cells[0].strip("`")] = (cells[1], set(RUNTIME_VARIABLES))
    for cells in table_rows(text, "## By runtime"):
        out[cells[0].strip("`")] = (cells[2], {r.strip() for r in cells[1].split(",")})
    return out


def test_variables_doc_lists_exactly_the_variables():
    documented = documented_variables()
    expected = set(COMMON_VARIABLES) | {name for names in RUNTIME_VARIABLES.values() for name in names}
    assert set(documented) == expected
    for name, (_, runtimes) in documented.items():
        if name not in COMMON_VARIABLES:
            assert runtimes == {r for r, names in RUNTIME_VARIABLES.items() if name in names}, name


def _documented_type_takes(documented: str, value) -> bool:
    """``number or null`` takes null too; ``object`` takes any map (its attributes are listed in the meaning)."""
    if value is None:
        return documented.endswith(" or null")
    if documented == "object":
        return isinstance(value, dict)
    return type_of(value) == documented.removesuffix(" or null")


def test_documented_types_match_the_exported_examples():
    documented = documented_variables()
    seen = set()
    for job in load_jobs([str(JOBS)], assets_dir=str(JOBS / "assets")).jobs:
        if job.infrastructure is None:
            continue
        for name, value in variables_of(job).items():
            assert _documented_type_takes(documented[name][0], value), (job.path, name, value)
            seen.add(name)
    assert seen == set(documented)  # the examples exercise every variable


def test_generated_names_are_the_names_job_variables_writes():
    """clashing_variables compares terraform.variables with these names without computing the values first."""
    for job in load_jobs([str(JOBS)], assets_dir=str(JOBS / "assets")).jobs:
        if job.infrastructure is not None:
            assert set(variables_of(job)) == generated_names(job.runtime), job.path


# --- tags.md -------------------------------------------------------------------------------------------


def test_precedence_table_matches_the_code():
    rows = table_rows(read("tags.md"), "## Precedence")
    assert [cells[1].strip("`") for cells in rows] == list(LEVELS)
    keys = set(re.findall(r"`(dativo:[a-z-]+)`", " ".join(cells[3] for cells in rows)))
    assert keys == {"dativo:tenant", "dativo:environment", "dativo:job", "dativo:managed-by", "dativo:classification", "dativo:regulations",
                    "dativo:retention-days", "dativo:cost-center", "dativo:project", "dativo:business-tags"}


def test_canonical_keys_in_the_doc_are_the_ones_produced(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "a.yaml").write_text(yaml.safe_dump({"asset": {
        "name": "a", "compliance": {"classification": ["PII"], "regulations": ["GDPR"], "retention_days": 1},
        "finops": {"cost_center": "c", "project": "p", "business_tags": ["b"]}}}))
    (tmp_path / "job.yaml").write_text("tenant_id: acme\nenvironment: prod\nasset_path: assets/a.yaml\nfinops: {environment: production}\n"
                                       "infrastructure: {provider: aws, runtime: {type: kubernetes, cluster_name: eks}}\n")
    job = load_job(str(tmp_path / "job.yaml"))
    keys = set(re.findall(r"`(dativo:[a-z-]+)`", read("tags.md")))
    assert set(resolved(job).tag_sets["aws"].tags) == keys


def test_list_separator_and_limits_in_the_doc():
    text = read("tags.md")
    assert f"joined with `{LIST_SEPARATOR}`" in text
    (row,) = [cells for cells in table_rows(text, "## Per-cloud formatting") if cells[0] == "Per resource"]
    assert row[1:4] == [str(FORMATS["aws"].limit), str(FORMATS["gcp"].limit), str(FORMATS["azure"].limit)]
    assert FORMATS["kubernetes"].limit is None and row[4] == "no limit checked"


def test_documented_messages_are_the_real_ones(cli, tmp_path, monkeypatch, project_dir):
    monkeypatch.chdir(tmp_path)
    text = read("tags.md")
    (limit_line,) = [b.strip() for b in blocks(text, "text")]
    Path("job.yaml").write_text("tenant_id: acme\nenvironment: prod\ninfrastructure:\n  provider: aws\n  runtime: {type: kubernetes, cluster_name: eks}\n"
                                "  compute: {cpu: 1}\n  tags:\n"
                                + "".join(f"    t{i:02d}: v\n" for i in range(47)))
    code, out, _ = cli("validate", "job.yaml")
    assert code == 2 and out.splitlines()[0] == limit_line

    Path("job.yaml").write_text("tenant_id: acme\nenvironment: prod\nfinops: {cost_center: HR-001}\ninfrastructure:\n  provider: gcp\n"
                                "  runtime: {type: kubernetes}\n  tags: {dativo_cost_center: fin-7}\n")
    code, out, _ = cli("tags", "job.yaml", "--explain")
    line = next(ln for ln in out.splitlines() if ln.startswith("dativo-cost-center"))
    documented = re.search(r"`(dativo-cost-center = fin-7 .*?)`", text, flags=re.S).group(1)
    assert " ".join(line.split()) == " ".join(documented.split())

    Path("job.yaml").write_text("tenant_id: acme\nenvironment: prod\ninfrastructure:\n  provider: gcp\n  runtime: {type: kubernetes}\n"
                                "  tags: {cost_center: a, cost-center: b}\n")
    code, out, _ = cli("validate", "job.yaml")
    documented = re.search(r"`(infrastructure.tags.cost-center: keys .*?)`\.", text, flags=re.S).group(1)
    assert code == 2 and out.splitlines()[0].split(": ", 1)[1] == " ".join(documented.split())


# --- verification.md --------------------------------------------------------------------------------


def test_verification_doc_points_at_real_files():
    text = read("verification.md")
    paths = set(re.findall(r"`((?:tests|docs|terraform_compat|dativo_infra)/[\w./-]+)`", text))
    assert paths
    for rel in paths:
        if "*" in rel:
            assert list(ROOT.glob(rel)), rel
        else:
            assert (ROOT / rel).exists(), rel
