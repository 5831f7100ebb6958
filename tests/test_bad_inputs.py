"""A catalogue of bad job files, each with the exact error line it must produce.

Every case is run through the real command line (``dativo-infra validate``):
exit code 2, no traceback, and exactly the listed problems, each rendered as
``FILE:LINE:COL: field.path: message``. Limits and tables quoted in the
messages are the ones in docs/cloud-limits.md (cited next to each case).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import pytest

# --- small valid jobs the cases start from -----------------------------------

ECS = """\
tenant_id: acme
environment: prod
infrastructure:
  provider: aws
  runtime:
    type: ecs
    cluster_name: main
  networking:
    vpc_id: vpc-1
    subnet_ids: [subnet-1]
"""


def k8s(provider: str = "aws", extra: str = "") -> str:
    return f"""\
tenant_id: acme
environment: prod
infrastructure:
  provider: {provider}
  runtime:
    type: kubernetes
    cluster_name: eks-main
""" + extra


def cloud_run(compute: str = "", extra: str = "") -> str:
    return """\
tenant_id: acme
environment: prod
infrastructure:
  provider: gcp
  region: us-central1
  runtime:
    type: cloud_run
""" + compute + extra


def container_apps(compute: str = "", runtime_extra: str = "") -> str:
    return """\
tenant_id: acme
environment: prod
infrastructure:
  provider: azure
  region: westeurope
  resource_group: rg-data
  runtime:
    type: container_apps
    cluster_name: cae-prod
""" + runtime_extra + compute


def ecs_compute(cpu: str, memory: str) -> str:
    return ECS + f"  compute:\n    cpu: {cpu}\n    memory: {memory}\n"


IDENTIFIER_RULE = ("must be 1–32 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen "
                   "(it is part of stack names, resource names and paths)")
S3_RULE = ("is invalid: 3–63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, "
           "no '..', not an IP address, no 'xn--' prefix or '-s3alias' suffix")
RUNTIME_KEYS = "cluster_name, create_cluster, create_namespace, image, namespace, schedule, service_account, type"
DUPLICATE = "YAML syntax error: duplicate key {key!r} (first defined on line {first}); YAML would silently keep only the last one"
CPU_SPELLINGS = 'write cores ("2", "0.5"), millicores ("500m") or ECS CPU units ("2048")'


@dataclass
class Bad:
    id: str
    text: Union[str, bytes]
    # (line, col, field, message); a message ending in "…" is compared as a prefix
    errors: list[tuple[Optional[int], Optional[int], str, str]]
    args: tuple = ()


def line(path: Path, line_no: Optional[int], col: Optional[int], field_path: str, message: str) -> str:
    where = f"{path}:{line_no}:{col}" if line_no is not None else str(path)
    return f"{where}: {field_path}: {message}" if field_path else f"{where}: {message}"


UNSET_HINT = "from the environment only DATIVO_* names and those listed in the stack config dativo-infra:envVars are read)"

CASES = [
    # --- typos and unknown values (did-you-mean) ------------------------------
    Bad("typo-cluster-name", ECS.replace("cluster_name", "cluster_nmae"), [
        (7, 5, "infrastructure.runtime.cluster_nmae", f"unknown key 'cluster_nmae'; did you mean 'cluster_name'? (allowed: {RUNTIME_KEYS})")]),
    Bad("typo-compute", k8s(extra="  computee:\n    cpu: 1\n"), [
        (8, 3, "infrastructure.computee", "unknown key 'computee'; did you mean 'compute'? (allowed: compute, dagster, networking, "
                                          "provider, region, resource_group, runtime, storage, tags, terraform)")]),
    Bad("typo-storage-bucket", k8s(extra="  storage:\n    bucekt: acme-lake\n"), [
        (8, 3, "infrastructure.storage.bucket", "required field is missing"),
        (9, 5, "infrastructure.storage.bucekt", "unknown key 'bucekt'; did you mean 'bucket'? (allowed: bucket, create_bucket, kms_key_id, prefix)")]),
    Bad("unknown-provider", k8s("ibm"), [
        (4, 3, "infrastructure.provider", "Input should be 'aws', 'gcp' or 'azure', got 'ibm'")]),
    Bad("provider-typo", k8s("awz"), [
        (4, 3, "infrastructure.provider", "Input should be 'aws', 'gcp' or 'azure', got 'awz'; did you mean 'aws'?")]),
    Bad("unknown-runtime", k8s().replace("kubernetes", "lambda"), [
        (6, 5, "infrastructure.runtime.type",
         "Input should be 'ecs', 'cloud_run', 'container_apps', 'kubernetes', 'dagster' or 'airflow', got 'lambda'")]),
    Bad("runtime-typo", k8s().replace("kubernetes", "cloudrun"), [
        (6, 5, "infrastructure.runtime.type", "Input should be 'ecs', 'cloud_run', 'container_apps', 'kubernetes', 'dagster' or 'airflow', "
                                              "got 'cloudrun'; did you mean 'cloud_run'?")]),
    # --- runtime allowed on provider (issue 2, rule 7) ------------------------
    Bad("cloud-run-on-aws", k8s().replace("kubernetes", "cloud_run"), [
        (6, 5, "infrastructure.runtime.type", "runtime 'cloud_run' does not run on provider 'aws'; allowed on aws: airflow, dagster, ecs, kubernetes")]),
    Bad("container-apps-on-gcp", k8s("gcp").replace("kubernetes", "container_apps"), [
        (6, 5, "infrastructure.runtime.type",
         "runtime 'container_apps' does not run on provider 'gcp'; allowed on gcp: airflow, cloud_run, dagster, kubernetes")]),
    Bad("ecs-on-azure", k8s("azure", "  resource_group: rg\n").replace("kubernetes", "ecs"), [
        (6, 5, "infrastructure.runtime.type",
         "runtime 'ecs' does not run on provider 'azure'; allowed on azure: airflow, container_apps, dagster, kubernetes")]),
    # --- wrong types ----------------------------------------------------------
    Bad("runtime-seconds-string", k8s(extra="  compute:\n    max_runtime_seconds: one hour\n"), [
        (9, 5, "infrastructure.compute.max_runtime_seconds", "Input should be a valid integer, unable to parse string as an integer, got 'one hour'")]),
    Bad("runtime-seconds-list", k8s(extra="  compute:\n    max_runtime_seconds: [3600]\n"), [
        (9, 5, "infrastructure.compute.max_runtime_seconds", "Input should be a valid integer, got a list")]),
    Bad("runtime-seconds-zero", k8s(extra="  compute:\n    max_runtime_seconds: 0\n"), [
        (9, 5, "infrastructure.compute.max_runtime_seconds", "Input should be greater than 0")]),
    Bad("tags-list", k8s(extra="  tags: [team, data]\n"), [
        (8, 3, "infrastructure.tags", "Input should be a valid dictionary, got a list")]),
    Bad("tag-value-null", k8s(extra="  tags:\n    Owner:\n"), [
        (9, 5, "infrastructure.tags.Owner", "Input should be a valid string, got None")]),
    Bad("subnets-string", ECS.replace("[subnet-1]", "subnet-1"), [
        (10, 5, "infrastructure.networking.subnet_ids", "Input should be a valid list, got 'subnet-1'")]),
    Bad("private-networking-not-bool", ECS + "    private_networking: maybe\n", [
        (11, 5, "infrastructure.networking.private_networking", "Input should be a valid boolean, unable to interpret input, got 'maybe'")]),
    Bad("terraform-variable-name", k8s(extra="  terraform:\n    variables:\n      my var: 1\n"), [
        (9, 5, "infrastructure.terraform.variables",
         "variable name 'my var' is not a Terraform identifier (letters, digits, '_' and '-', not starting with a digit)")]),
    Bad("terraform-variable-date", k8s(extra="  terraform:\n    variables:\n      start: !!timestamp 2024-01-01\n"), [
        (9, 5, "infrastructure.terraform.variables", "start: a date is not a Terraform value; quote it to pass a string")]),
    Bad("terraform-variable-reserved", k8s(extra="  terraform:\n    variables:\n      count: 1\n"), [
        (9, 5, "infrastructure.terraform.variables", "'count' is reserved by Terraform and cannot be a module variable name")]),
    # --- sizes per runtime (docs/cloud-limits.md §2) ---------------------------------------
    # Fargate: 1024 CPU units take 2048–8192 MiB in steps of 1024
    Bad("fargate-memory-for-cpu", ecs_compute('"1024"', '"1024"'), [
        (13, 5, "infrastructure.compute.memory",
         "1024 MiB is not valid with 1024 Fargate CPU units (allowed 2048–8192 MiB); nearest valid: 2048, 3072, 4096")]),
    # Fargate CPU units are 256, 512, 1024, 2048, 4096, 8192, 16384: 3 vCPU = 3072 units is none of them
    Bad("fargate-cpu", ecs_compute('"3"', '"4096"'), [
        (12, 5, "infrastructure.compute.cpu",
         "3 vCPU (3072 CPU units) is not a Fargate task size; nearest valid CPU units: 2048 (2 vCPU), 4096 (4 vCPU), 1024 (1 vCPU)")]),
    # 8192 units: 16384–61440 MiB in steps of 4096, so 18432 is between 16384 and 20480
    Bad("fargate-8-vcpu-step", ecs_compute('"8192"', '"18432"'), [
        (13, 5, "infrastructure.compute.memory",
         "18432 MiB is not valid with 8192 Fargate CPU units (allowed 16384–61440 MiB); nearest valid: 16384, 20480, 24576")]),
    # Cloud Run jobs: CPU 1, 2, 4, 6 or 8
    Bad("cloud-run-cpu-3", cloud_run("  compute:\n    cpu: 3\n    memory: 2Gi\n"), [
        (9, 5, "infrastructure.compute.cpu", "3 vCPU is not a Cloud Run job CPU; use 1, 2, 4, 6 or 8 (nearest: 1, 2, 4)")]),
    # Cloud Run: more than 4 GiB needs 2 CPUs
    Bad("cloud-run-memory-needs-cpu", cloud_run("  compute:\n    cpu: 1\n    memory: 8Gi\n"), [
        (9, 5, "infrastructure.compute.cpu", "8Gi on Cloud Run needs at least 2 CPUs (more than 4 GiB); got 1")]),
    # Cloud Run: memory 512 MiB – 32 GiB
    Bad("cloud-run-memory-low", cloud_run("  compute:\n    cpu: 1\n    memory: 256Mi\n"), [
        (10, 5, "infrastructure.compute.memory", "256 MiB is outside Cloud Run's 512 MiB – 32 GiB")]),
    Bad("cloud-run-memory-high", cloud_run("  compute:\n    cpu: 8\n    memory: 64Gi\n"), [
        (10, 5, "infrastructure.compute.memory", "65536 MiB is outside Cloud Run's 512 MiB – 32 GiB")]),
    # Container Apps: 1 vCPU goes with 2Gi only
    Bad("container-apps-pair", container_apps("  compute:\n    cpu: 1\n    memory: 4Gi\n"), [
        (11, 5, "infrastructure.compute.cpu", "1 vCPU / 4Gi is not a Container Apps CPU/memory pair (0.25 vCPU steps with 2 GiB per vCPU, "
                                              "up to 4/8Gi on Consumption); nearest: 1/2Gi, 1.25/2560Mi, 1.5/3Gi")]),
    # Container Apps: at most 4 cores per replica
    Bad("container-apps-over-4-cores", container_apps("  compute:\n    cpu: 4.25\n    memory: 8704Mi\n"), [
        (11, 5, "infrastructure.compute.cpu", "4.25 vCPU / 8704Mi is not a Container Apps CPU/memory pair (0.25 vCPU steps with 2 GiB per vCPU, "
                                              "up to 4/8Gi on Consumption); nearest: 3.5/7Gi, 3.75/7680Mi, 4/8Gi")]),
    # 4G is 4·10⁹ bytes (Kubernetes quantity, docs/cloud-limits.md §2): 3814.70 MiB, not whole
    Bad("memory-decimal-G", k8s(extra="  compute:\n    memory: 4G\n"), [
        (9, 5, "infrastructure.compute.memory",
         "memory '4G' is 3814.70 MiB, not a whole number of MiB (G is decimal, 10^n bytes; write Mi/Gi for binary units)")]),
    Bad("cpu-abc", k8s(extra="  compute:\n    cpu: abc\n"), [
        (9, 5, "infrastructure.compute.cpu", f"cpu 'abc' is not a CPU size; {CPU_SPELLINGS}")]),
    Bad("cpu-negative", k8s(extra="  compute:\n    cpu: '-1'\n"), [
        (9, 5, "infrastructure.compute.cpu", f"cpu '-1' is not a CPU size; {CPU_SPELLINGS}")]),
    Bad("memory-negative", k8s(extra="  compute:\n    memory: -1\n"), [
        (9, 5, "infrastructure.compute.memory",
         "memory -1 is not a memory size; write MiB (\"4096\") or a quantity with Mi/Gi (\"4Gi\"), M/G or MB/GB")]),
    Bad("memory-bool", k8s(extra="  compute:\n    memory: true\n"), [
        (9, 5, "infrastructure.compute.memory", "memory True is not a number; write MiB (\"4096\") or a quantity (\"4Gi\")")]),
    Bad("cpu-bool", k8s(extra="  compute:\n    cpu: true\n"), [
        (9, 5, "infrastructure.compute.cpu", "cpu True is not a number; write cores (\"2\"), millicores (\"500m\") or ECS units (\"2048\")")]),
    # Kubernetes quantities allow at most 3 decimal places (docs/cloud-limits.md §2): 1.5m is 0.0015 cores
    Bad("cpu-finer-than-millicore", k8s(extra="  compute:\n    cpu: 1.5m\n"), [
        (9, 5, "infrastructure.compute.cpu", "cpu '1.5m' is finer than a millicore; Kubernetes quantities allow at most 3 decimal places")]),
    Bad("resource-requirements", k8s(extra="  dagster:\n    resource_requirements:\n      request_memory: 4G\n      limit_cpu: true\n"), [
        (10, 7, "infrastructure.dagster.resource_requirements.request_memory",
         "memory '4G' is 3814.70 MiB, not a whole number of MiB (G is decimal, 10^n bytes; write Mi/Gi for binary units)"),
        (11, 7, "infrastructure.dagster.resource_requirements.limit_cpu",
         "cpu True is not a number; write cores (\"2\"), millicores (\"500m\") or ECS units (\"2048\")")]),
    # --- variables --------------------------------------------------------------
    Bad("unset-variable", k8s(extra="    namespace: ${NS_FOR_TEST_UNSET}\n"), [
        (8, 5, "infrastructure.runtime.namespace",
         f"variable ${{NS_FOR_TEST_UNSET}} is not set (pass --var NS_FOR_TEST_UNSET=...; {UNSET_HINT}")]),
    Bad("unset-variable-in-finops", k8s() + "finops:\n  cost_center: ${CC_FOR_TEST_UNSET}\n", [
        (9, 3, "finops.cost_center", f"variable ${{CC_FOR_TEST_UNSET}} is not set (pass --var CC_FOR_TEST_UNSET=...; {UNSET_HINT}")]),
    Bad("shared-file-without-tenant", "tenant_id: ${TENANT_ID}\nenvironment: prod\n", [
        (1, 1, "tenant_id", "shared job file: tenant_id uses ${TENANT_ID} and no tenant is known; pass --tenant or --var TENANT_ID=...")]),
    # --- strict YAML ----------------------------------------------------------------
    Bad("duplicate-top-level-key", "tenant_id: acme\nenvironment: prod\ntenant_id: globex\n", [
        (3, 1, "", DUPLICATE.format(key="tenant_id", first=1))]),
    Bad("duplicate-nested-key", k8s(extra="    namespace: a\n    namespace: b\n"), [
        (9, 5, "", DUPLICATE.format(key="namespace", first=8))]),
    Bad("duplicate-key-beside-a-merge-key", "tenant_id: acme\nenvironment: prod\nx-base: &base {cpu: '1'}\ninfrastructure:\n  provider: aws\n"
        "  runtime: {type: kubernetes, cluster_name: eks-main}\n  compute:\n    <<: *base\n    memory: 4Gi\n    memory: 8Gi\n", [
        (10, 5, "", DUPLICATE.format(key="memory", first=9))]),
    Bad("invalid-utf8", b"tenant_id: acme\nenvironment: pr\xffod\n", [
        (2, 16, "", "file is not valid UTF-8 (byte 0xff); job files must be UTF-8 text")]),
    Bad("latin1-file", "tenant_id: acme\nenvironment: prod\nfinops:\n  project: café\n".encode("latin-1"), [
        (4, 15, "", "file is not valid UTF-8 (byte 0xe9); job files must be UTF-8 text")]),
    Bad("nul-byte", b"tenant_id: acme\nenvironment: prod\x00\n", [
        (2, 1, "", "file contains a NUL byte; job files must be text")]),
    Bad("control-character", "tenant_id: acme\nenvironment: pr\x07od\n", [
        (2, 16, "", "character U+0007 is not allowed in YAML (control characters are not allowed); job files must be printable text")]),
    Bad("empty-file", "", [(1, 1, "", "job file is empty; expected a mapping of keys to values")]),
    Bad("comments-only", "# nothing here\n", [(1, 1, "", "job file is empty; expected a mapping of keys to values")]),
    Bad("list-document", "- tenant_id: acme\n- environment: prod\n", [
        (1, 1, "", "job file must be a mapping of keys to values, got a list")]),
    Bad("scalar-document", "just a string\n", [(1, 1, "", "job file must be a mapping of keys to values, got a string")]),
    Bad("number-document", "42\n", [(1, 1, "", "job file must be a mapping of keys to values, got a number")]),
    Bad("syntax-error", "tenant_id: acme\nenvironment: [prod\ninfrastructure: {}\n", [
        (3, 15, "", "YAML syntax error: while parsing a flow sequence did not find expected ',' or ']'")]),
    Bad("tab-indentation", "tenant_id: acme\nenvironment: prod\ninfrastructure:\n\tprovider: aws\n", [
        (4, 1, "", "YAML syntax error: while scanning for the next token found character that cannot start any token "
                   "(a tab: YAML indents with spaces only)")]),
    Bad("two-documents", "tenant_id: acme\nenvironment: prod\n---\ntenant_id: globex\n", [
        (3, 1, "", "YAML syntax error: expected a single document in the stream but found another document")]),
    # --- safe identifiers -------------------------------------------------------------
    Bad("tenant-uppercase", "tenant_id: Acme\nenvironment: prod\n", [(1, 1, "tenant_id", f"tenant_id 'Acme' {IDENTIFIER_RULE}")]),
    Bad("tenant-underscore", "tenant_id: acme_corp\nenvironment: prod\n", [(1, 1, "tenant_id", f"tenant_id 'acme_corp' {IDENTIFIER_RULE}")]),
    Bad("tenant-leading-digit", "tenant_id: 1acme\nenvironment: prod\n", [(1, 1, "tenant_id", f"tenant_id '1acme' {IDENTIFIER_RULE}")]),
    Bad("tenant-too-long", "tenant_id: " + "a" * 33 + "\nenvironment: prod\n", [(1, 1, "tenant_id", f"tenant_id '{'a' * 33}' {IDENTIFIER_RULE}")]),
    Bad("tenant-trailing-hyphen", "tenant_id: acme-\nenvironment: prod\n", [(1, 1, "tenant_id", f"tenant_id 'acme-' {IDENTIFIER_RULE}")]),
    Bad("tenant-trailing-newline", 'tenant_id: "acme\\n"\nenvironment: prod\n', [(1, 1, "tenant_id", f"tenant_id 'acme\\n' {IDENTIFIER_RULE}")]),
    Bad("tenant-missing", "environment: prod\n", [(1, 1, "tenant_id", "required field is missing")]),
    Bad("environment-unsafe", "tenant_id: acme\nenvironment: Prod!\n", [(2, 1, "environment", f"environment 'Prod!' {IDENTIFIER_RULE}")]),
    # --- buckets ------------------------------------------------------------------------
    Bad("s3-bucket-uppercase-underscore", k8s(extra="  storage:\n    bucket: Acme_Lake\n"), [
        (9, 5, "infrastructure.storage.bucket", f"S3 bucket name 'Acme_Lake' {S3_RULE}")]),
    Bad("s3-bucket-ip-address", k8s(extra="  storage:\n    bucket: 192.168.1.1\n"), [
        (9, 5, "infrastructure.storage.bucket", f"S3 bucket name '192.168.1.1' {S3_RULE}")]),
    Bad("s3-bucket-trailing-newline", k8s(extra="  storage:\n    bucket: \"acme-lake\\n\"\n"), [
        (9, 5, "infrastructure.storage.bucket", f"S3 bucket name 'acme-lake\\n' {S3_RULE}")]),
    Bad("gcs-bucket-google", k8s("gcp", "  storage:\n    bucket: google-lake\n"), [
        (9, 5, "infrastructure.storage.bucket", "GCS bucket name 'google-lake' is invalid: 3–63 lowercase letters, digits, '-', '_' and '.' "
                                                "(up to 222 with dots, 63 per dot-separated part), starting and ending with a letter or digit, "
                                                "no 'goog' prefix or 'google'")]),
    Bad("azure-bucket-without-container", k8s("azure", "  resource_group: rg\n  storage:\n    bucket: acmelake\n"), [
        (10, 5, "infrastructure.storage.bucket", "on Azure storage.bucket is 'account/container', got 'acmelake'")]),
    Bad("azure-storage-account", k8s("azure", "  resource_group: rg\n  storage:\n    bucket: Acme-Lake/raw\n"), [
        (10, 5, "infrastructure.storage.bucket", "Azure storage account 'Acme-Lake' must be 3–24 lowercase letters and digits")]),
    Bad("prefix-dot-dot", k8s(extra="  storage:\n    bucket: acme-lake\n    prefix: raw/../other-tenant\n"), [
        (10, 5, "infrastructure.storage.prefix", "prefix 'raw/../other-tenant' may not contain '..', '*' or '?': it bounds the job's access")]),
    # --- consistency rules ------------------------------------------------------------
    Bad("azure-without-resource-group", k8s("azure"), [
        (3, 1, "infrastructure.resource_group", "Azure resources live in a resource group: set resource_group, or give runtime.cluster_name as "
                                                "the managed environment's (or cluster's) resource ID …")]),
    Bad("ecs-without-subnets", ECS.replace("    subnet_ids: [subnet-1]\n", ""), [
        (8, 3, "infrastructure.networking.subnet_ids", "runtime 'ecs' places tasks in subnets: list at least one subnet ID")]),
    # Cloud Run task timeout: at most 168 h = 604800 s
    Bad("cloud-run-timeout", cloud_run("  compute:\n    max_runtime_seconds: 604801\n"), [
        (9, 5, "infrastructure.compute.max_runtime_seconds", "604801 s exceeds Cloud Run's task timeout limit of 604800 s (168 h)")]),
    # Cloud Run retries per task: 0–10
    Bad("cloud-run-retries", cloud_run(extra="  dagster:\n    op_config:\n      max_retries: 11\n"), [
        (10, 7, "infrastructure.dagster.op_config.max_retries", "Cloud Run allows 0–10 retries per task, got 11")]),
    Bad("cloud-run-retries-from-retry-config", "retry_config:\n  max_attempts: 12\n" + cloud_run(), [
        (2, 3, "retry_config.max_attempts", "Cloud Run allows 0–10 retries per task, got 11 (retry_config.max_attempts 12 = 1 attempt + 11 retries)")]),
    Bad("cron-four-fields", k8s(extra="    schedule: '0 2 * *'\n"), [
        (8, 5, "infrastructure.runtime.schedule.cron",
         "cron '0 2 * *' must have 5 fields (minute hour day-of-month month day-of-week), e.g. '0 2 * * *'")]),
    Bad("cron-bad-characters", k8s(extra="    schedule: '0 2 * * mon;rm'\n"), [
        (8, 5, "infrastructure.runtime.schedule.cron", "cron '0 2 * * mon;rm': field 'mon;rm' may only hold digits, names and * / , - ? L W #")]),
    # a misspelt key would be kept for the ETL runner, and the job would quietly provision nothing or lose a tag
    Bad("top-level-key-typo", "infrastucture: {}\n" + k8s(), [
        (1, 1, "infrastucture", "unknown key 'infrastucture': did you mean 'infrastructure'? (unknown keys are kept for the ETL runner and ignored here)")]),
    Bad("finops-key-spelling", "finops:\n  costcenter: FIN-1\n" + k8s(), [
        (2, 3, "finops.costcenter", "unknown key 'costcenter': did you mean 'cost_center'? (unknown keys are kept for the ETL runner and ignored here)")]),
    # each field in its range: a typo must not become a schedule that never fires
    Bad("cron-hour-out-of-range", k8s(extra="    schedule: '0 25 * * *'\n"), [
        (8, 5, "infrastructure.runtime.schedule.cron", "cron '0 25 * * *': hour '25': '25' is out of range; allowed: 0–23")]),
    Bad("cron-every-field-wrong", k8s(extra="    schedule: '*/0 2 32 13 MONDAY'\n"), [
        (8, 5, "infrastructure.runtime.schedule.cron",
         "cron '*/0 2 32 13 MONDAY': minute '*/0': a step must be 1 or more; day-of-month '32': '32' is out of range; allowed: 1–31; "
         "month '13': '13' is out of range; allowed: 1–12 or JAN–DEC; "
         "day-of-week 'MONDAY': 'MONDAY' is not a number or a three-letter name; allowed: 0–7 or SUN–SAT")]),
    Bad("cron-backwards-range", k8s(extra="    schedule: '0 2 * * 5-1'\n"), [
        (8, 5, "infrastructure.runtime.schedule.cron", "cron '0 2 * * 5-1': day-of-week '5-1': the range 5-1 runs backwards; write it from low to high")]),
    # L, W and # are EventBridge's: Kubernetes, Cloud Scheduler and Container Apps take standard cron
    Bad("cron-eventbridge-extension-elsewhere", k8s(extra="    schedule: '0 2 * * FRI#2'\n"), [
        (8, 5, "infrastructure.runtime.schedule.cron",
         "'FRI#2': L, W and # are EventBridge (ECS) cron extensions; kubernetes schedules take standard 5-field cron")]),
    Bad("unknown-timezone", k8s(extra="    schedule:\n      cron: '0 2 * * *'\n      timezone: Mars/Olympus_Mons\n"), [
        (10, 7, "infrastructure.runtime.schedule.timezone", "unknown time zone 'Mars/Olympus_Mons'; use an IANA name such as 'UTC' or 'Europe/Berlin'")]),
    # Container Apps evaluates cron in UTC (docs/cloud-limits.md §2)
    Bad("container-apps-timezone", container_apps(runtime_extra="    schedule:\n      cron: '0 2 * * *'\n      timezone: Europe/Berlin\n"), [
        (12, 7, "infrastructure.runtime.schedule.timezone",
         "Container Apps evaluates schedules in UTC only; write the cron in UTC and set timezone: UTC")]),
    Bad("create-cluster-not-ecs", k8s(extra="    create_cluster: true\n"), [
        (8, 5, "infrastructure.runtime.create_cluster", "only ECS clusters can be created by dativo-infra; reference an existing cluster")]),
    # --- tags (docs/cloud-limits.md §1) --------------------------------------------------------------
    Bad("reserved-aws-tag", k8s(extra="  tags:\n    aws:cost: x\n"), [
        (9, 5, "infrastructure.tags.aws:cost", "tag key 'aws:cost': the 'aws:' prefix (in any case) is reserved by AWS")]),
    Bad("reserved-aws-tag-mixed-case", k8s(extra="  tags:\n    Aws:cost: x\n"), [
        (9, 5, "infrastructure.tags.Aws:cost", "tag key 'Aws:cost': the 'aws:' prefix (in any case) is reserved by AWS")]),
    Bad("cloud-run-reserved-label", k8s("gcp", "  tags:\n    run.googleapis.com/x: y\n"), [
        (9, 5, "infrastructure.tags.run.googleapis.com/x", "label key 'run.googleapis.com/x': the 'run.googleapis.com' namespace is reserved by Cloud Run")]),
    Bad("kubernetes-reserved-label", k8s(extra="  tags:\n    kubernetes.io/x: y\n"), [
        (9, 5, "infrastructure.tags.kubernetes.io/x",
         "label key 'kubernetes.io/x': the 'kubernetes.io/' prefix is reserved for Kubernetes core components")]),
    # GCP: hyphens instead of underscores, so both keys are cost-center
    Bad("gcp-collision-in-one-level", k8s("gcp", "  tags:\n    cost_center: a\n    cost-center: b\n"), [
        (10, 5, "infrastructure.tags.cost-center",
         "keys 'cost_center' and 'cost-center' of the same level both become 'cost-center' in gcp labels; rename one")]),
    # Azure tag names are case-insensitive
    Bad("azure-collision-in-one-level", k8s("azure", "  resource_group: rg\n  tags:\n    Owner: a\n    owner: b\n"), [
        (11, 5, "infrastructure.tags.owner", "keys 'Owner' and 'owner' of the same level both become 'owner' in azure tags; rename one")]),
    # AWS: at most 50 user tags; 4 defaults + 47 = 51
    Bad("aws-too-many-tags", k8s(extra="  tags:\n" + "".join(f"    t{i:02d}: v\n" for i in range(47))), [
        (8, 3, "infrastructure.tags", "52 tags after merging, more than aws's limit of 50 per resource (from defaults 4, infrastructure.tags 47, "
                                      "plus Name that dativo-infra adds to some resources)")]),
    # GCP: at most 64 labels
    Bad("gcp-too-many-labels", k8s("gcp", "  tags:\n" + "".join(f"    t{i:02d}: v\n" for i in range(61))), [
        (8, 3, "infrastructure.tags", "65 labels after merging, more than gcp's limit of 64 per resource (from defaults 4, infrastructure.tags 61)")]),
]


def test_catalogue_is_large_enough():
    assert len(CASES) >= 35
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.fixture(autouse=True)
def _a_project_folder(project_dir):
    """Every test here runs in tmp_path: a project folder with a default AWS region, as a user's has."""


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Bad, cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative paths in the output, and no jobs/assets folder to find by accident
    path = Path(f"{case.id}.yaml")
    write(str(path), case.text)
    code, out, err = cli("validate", path, *case.args)
    assert "Traceback" not in out + err
    assert code == 2, out + err
    problems = [ln for ln in out.splitlines() if ln.startswith(str(path))]
    assert len(problems) == len(case.errors), out
    for got, (line_no, col, field_path, message) in zip(problems, case.errors, strict=True):
        want = line(path, line_no, col, field_path, message)
        if message.endswith("…"):
            assert got.startswith(want[:-1]), (got, want)
        else:
            assert got == want
    assert "1 files with errors" in err


def test_every_problem_of_a_file_is_reported_at_once(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # three independent model errors: a typo, a wrong type, an invalid size
    write("three.yaml", k8s(extra="    namespce: etl\n  compute:\n    max_runtime_seconds: soon\n    memory: lots\n"))
    code, out, _ = cli("validate", "three.yaml")
    assert code == 2
    assert [ln.split(": ")[1] for ln in out.splitlines() if ln.startswith("three.yaml")] == [
        "infrastructure.runtime.namespce", "infrastructure.compute.memory", "infrastructure.compute.max_runtime_seconds"]
    # four independent rule errors: identifiers, bucket, subnets
    write("four.yaml", ECS.replace("acme", "Acme").replace("prod", "Prod").replace("    subnet_ids: [subnet-1]\n", "")
          + "  storage:\n    bucket: Bad_Bucket\n")
    code, out, _ = cli("validate", "four.yaml")
    assert code == 2
    fields = [ln.split(": ")[1] for ln in out.splitlines() if ln.startswith("four.yaml")]
    assert sorted(fields) == ["environment", "infrastructure.networking.subnet_ids", "infrastructure.storage.bucket", "tenant_id"]
    # a model error and an unsafe tenant id together
    write("both.yaml", ECS.replace("acme", "Acme").replace("cluster_name", "clustername"))
    code, out, _ = cli("validate", "both.yaml")
    fields = [ln.split(": ")[1] for ln in out.splitlines() if ln.startswith("both.yaml")]
    assert sorted(fields) == ["infrastructure.runtime.clustername", "tenant_id"]


def test_other_files_still_load_when_one_is_bad(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write("jobs/good.yaml", k8s())
    write("jobs/bad.yaml", "tenant_id: Acme\nenvironment: prod\n")
    code, out, err = cli("validate", "jobs")
    assert code == 2
    assert "ok   jobs/good.yaml: tenant acme, prod: aws/kubernetes, 4 tags" in out
    assert f"jobs/bad.yaml:1:1: tenant_id: tenant_id 'Acme' {IDENTIFIER_RULE}" in out
    assert "2 files, 1 jobs valid, 1 files with errors" in err


def test_directory_without_job_files(cli, tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "notes.txt").write_text("not a job")
    code, out, err = cli("validate", tmp_path / "empty")
    assert code == 2
    assert "no job files found (looked for *.yaml and *.yml)" in err
    assert "Traceback" not in out + err


def test_missing_path(cli, tmp_path):
    code, out, err = cli("validate", tmp_path / "nope.yaml")
    assert code == 2
    assert out.splitlines()[0] == f"{tmp_path / 'nope.yaml'}: no such file; expected a job file"


def test_missing_asset_names_every_place_looked(cli, write, tmp_path, monkeypatch):
    """asset_path resolution: as written, then under --assets-dir (the part after 'assets/'), then assets/ beside the job and its parents."""
    monkeypatch.chdir(tmp_path)
    write("tenants/acme/job.yaml", k8s() + "asset_path: /app/assets/stripe/v1.0/customers.yaml\n")
    code, out, err = cli("validate", "--assets-dir", "my-assets", "tenants/acme/job.yaml")
    assert code == 2 and "Traceback" not in out + err
    tail = "stripe/v1.0/customers.yaml"
    looked = ["/app/assets/" + tail, "my-assets/" + tail, "tenants/acme/assets/" + tail, "tenants/assets/" + tail, "assets/" + tail]
    assert out.splitlines()[0] == (
        f"tenants/acme/job.yaml:8:1: asset_path: asset file '/app/assets/{tail}' (asset_path of job tenants/acme/job.yaml): not found; looked in: {', '.join(looked)} "
        "(set --assets-dir or DATIVO_ASSETS_DIR)")


def test_missing_relative_asset(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write("jobs/job.yaml", k8s() + "asset_path: orders.yaml\n")
    code, out, _ = cli("validate", "--assets-dir", "defs", "jobs/job.yaml")
    assert code == 2
    # as written (from the working directory), beside the job file, under the assets directory
    assert out.splitlines()[0] == ("jobs/job.yaml:8:1: asset_path: asset file 'orders.yaml' (asset_path of job jobs/job.yaml): not found; looked in: "
                                   "orders.yaml, jobs/orders.yaml, defs/orders.yaml (set --assets-dir or DATIVO_ASSETS_DIR)")
    write("defs/orders.yaml", "asset:\n  name: orders\n")
    code, out, _ = cli("validate", "--assets-dir", "defs", "jobs/job.yaml")
    assert code == 0, out


def test_asset_found_through_assets_dir(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write("jobs/job.yaml", k8s() + "asset_path: /app/assets/stripe/v1.0/customers.yaml\n")
    write("elsewhere/stripe/v1.0/customers.yaml", "asset:\n  name: stripe_customers\n  compliance:\n    classification: [PII]\n")
    code, out, _ = cli("validate", "--assets-dir", "elsewhere", "jobs/job.yaml")
    assert code == 0, out
    code, out, _ = cli("validate", "jobs/job.yaml", env={"DATIVO_ASSETS_DIR": "elsewhere"})
    assert code == 0, out


def test_invalid_asset_file(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write("jobs/job.yaml", k8s() + "asset_path: assets/orders.yaml\n")
    write("jobs/assets/orders.yaml", "asset:\n  name: [orders]\n  compliance:\n    retention_days: -1\n")
    code, out, err = cli("validate", "jobs/job.yaml")
    assert code == 2 and "Traceback" not in out + err
    assert out.splitlines()[:2] == [
        "jobs/assets/orders.yaml:2:3: asset.name: Input should be a valid string, got a list (the asset of job jobs/job.yaml)",
        "jobs/assets/orders.yaml:4:5: asset.compliance.retention_days: Input should be greater than or equal to 0 (the asset of job jobs/job.yaml)",
    ]


def test_asset_file_that_is_not_yaml(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write("jobs/job.yaml", k8s() + "asset_path: assets/orders.yaml\n")
    write("jobs/assets/orders.yaml", "- just\n- a list\n")
    code, out, _ = cli("validate", "jobs/job.yaml")
    assert code == 2
    assert out.splitlines()[0] == "jobs/assets/orders.yaml:1:1: asset file must be a mapping of keys to values, got a list (the asset of job jobs/job.yaml)"


def test_two_jobs_with_one_name_for_one_tenant(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write("a/orders.yaml", k8s())
    write("b/orders.yaml", k8s())
    code, out, _ = cli("validate", "a", "b", "a/orders.yaml")  # a file named twice is read once
    assert code == 2
    assert out.splitlines()[1] == ("b/orders.yaml: job 'orders' of tenant acme (prod) is already defined by a/orders.yaml; "
                                   "both would create the same resources and export to the same file: rename one file")


# --- what must work ----------------------------------------------------------------


def test_variable_default_is_used_when_unset(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NS_FOR_TEST_UNSET", raising=False)
    write("job.yaml", k8s(extra="    namespace: ${NS_FOR_TEST_UNSET:-team-a}\n"))
    code, out, err = cli("validate", "job.yaml")
    assert code == 0, out + err
    from dativo_infra.jobs import load_job
    assert load_job("job.yaml").infrastructure.runtime.namespace == "team-a"
    # the environment gives only DATIVO_* names (and those the stack config allows): this one does not leak in
    monkeypatch.setenv("NS_FOR_TEST_UNSET", "from-env")
    assert load_job("job.yaml").infrastructure.runtime.namespace == "team-a"
    # an explicit --var wins over the default and over the environment
    assert load_job("job.yaml", variables={"NS_FOR_TEST_UNSET": "from-var"}).infrastructure.runtime.namespace == "from-var"


def test_anchors_and_merge_keys_work(write, tmp_path):
    """A merge key is not a duplicate: the mapping's own keys override the merged ones, as YAML specifies."""
    from dativo_infra.jobs import load_job

    path = write("merge.yaml", "tenant_id: acme\nenvironment: prod\nx-base: &base\n  cpu: '1'\n  memory: 2Gi\ninfrastructure:\n  provider: aws\n"
                               "  runtime: {type: kubernetes, cluster_name: eks-main}\n  compute:\n    <<: *base\n    memory: 4Gi\n  tags: {Team: &team data}\n"
                               "finops: {project: *team}\n")
    job = load_job(str(path))
    assert (job.infrastructure.compute.cpu, job.infrastructure.compute.memory_mib) == ("1", 4096)
    assert job.config.finops.project == "data"


def test_unset_variable_is_fixed_by_var(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write("job.yaml", k8s(extra="    namespace: ${NS_FOR_TEST_UNSET}\n"))
    code, out, err = cli("validate", "--var", "NS_FOR_TEST_UNSET=etl", "job.yaml")
    assert code == 0, out + err


def test_shared_file_with_tenant_default_or_flag(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TENANT_ID", raising=False)
    write("shared.yaml", "tenant_id: ${TENANT_ID:-acme}\nenvironment: prod\n")
    code, out, _ = cli("validate", "shared.yaml")
    assert code == 0 and "ok   shared.yaml: tenant acme, prod" in out
    write("shared2.yaml", "tenant_id: ${TENANT_ID}\nenvironment: prod\n")
    code, out, _ = cli("validate", "--tenant", "globex", "shared2.yaml")
    assert code == 0 and "ok   shared2.yaml: tenant globex, prod" in out


def test_bad_var_option_is_a_usage_error(cli, write, tmp_path):
    job = write("job.yaml", k8s())
    code, out, err = cli("validate", "--var", "NOEQUALS", job)
    assert code == 2
    assert "'NOEQUALS' is not KEY=VALUE" in err
    assert "Traceback" not in out + err


def test_json_output_shape(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write("good.yaml", k8s())
    write("bad.yaml", ECS.replace("cluster_name", "cluster_nmae") + "  compute:\n    memory: lots\n")
    code, out, _ = cli("validate", "--json", "good.yaml", "bad.yaml")
    assert code == 2
    report = json.loads(out)
    records = report["files"]
    assert report["ok"] is False and report["errors"] == records[1]["errors"]  # the one failure shape, and each file's record
    assert [r["path"] for r in records] == ["good.yaml", "bad.yaml"]
    good, bad = records
    assert good["ok"] is True and good["errors"] == []
    assert good["jobs"] == [{"tenant": "acme", "environment": "prod", "job": "good", "provider": "aws", "runtime": "kubernetes", "warnings": []}]
    assert bad["ok"] is False
    assert bad["errors"] == [
        {"line": 7, "col": 5, "field": "infrastructure.runtime.cluster_nmae",
         "message": f"unknown key 'cluster_nmae'; did you mean 'cluster_name'? (allowed: {RUNTIME_KEYS})", "file": "bad.yaml"},
        {"line": 12, "col": 5, "field": "infrastructure.compute.memory",
         "message": "memory 'lots' is not a memory size; write MiB (\"4096\") or a quantity with Mi/Gi (\"4Gi\"), M/G or MB/GB",
         "file": "bad.yaml"},
    ]
    for record in records:
        assert set(record) >= {"path", "ok", "errors"}
        for error in record["errors"]:
            assert set(error) == {"line", "col", "field", "message", "file"}


def test_json_output_for_unreadable_bytes(cli, write, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write("bin.yaml", b"\x89PNG\r\n\x1a\n\x00\x00")
    code, out, _ = cli("validate", "--json", "bin.yaml")
    assert code == 2
    (record,) = json.loads(out)["files"]
    assert record["ok"] is False
    assert record["errors"] == [{"line": 1, "col": 1, "field": "", "message": "file is not valid UTF-8 (byte 0x89); job files must be UTF-8 text",
                                 "file": "bin.yaml"}]
