"""Synthetic fleets for the benchmarks: N tenants × M jobs over every runtime, sharing asset files.

    python -m benchmarks.generate OUT_DIR --tenants 10 --jobs 100

Each job file looks like the examples in jobs/ (connectors, source, target,
an infrastructure block with ~8 tags, finops, retry and logging), so the YAML
parsing floor and dativo-infra's work are measured on realistic files.
"""
from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

ASSET_COUNT = 20

RUNTIMES = {
    "ecs": """  provider: aws
  runtime:
    type: ecs
    cluster_name: {tenant}-{env}-cluster
    schedule:
      cron: "{minute} 2 * * *"
      timezone: Europe/Berlin
  compute:
    cpu: "1024"
    memory: "4096"
    max_runtime_seconds: 3600
  networking:
    vpc_id: vpc-0123456789abcdef0
    subnet_ids: [subnet-0123456789abcdef0, subnet-0123456789abcdef1]
    security_group_ids: [sg-0123456789abcdef0]
    private_networking: true
  storage:
    bucket: {tenant}-data-lake
    prefix: raw/{source}/{object}
    kms_key_id: arn:aws:kms:us-east-1:123456789012:key/12345678-1234-1234-1234-123456789012
""",
    "cloud_run": """  provider: gcp
  region: europe-west1
  runtime:
    type: cloud_run
    schedule: "{minute} * * * *"
  compute:
    cpu: "2"
    memory: "4Gi"
    max_runtime_seconds: 3600
  networking:
    vpc_id: projects/{tenant}-project/global/networks/dativo
    subnet_ids: [projects/{tenant}-project/regions/europe-west1/subnetworks/dativo]
    private_networking: true
  storage:
    bucket: {tenant}-lake-gcp
    prefix: raw/{source}/{object}
    kms_key_id: projects/{tenant}-project/locations/europe-west1/keyRings/dativo/cryptoKeys/etl
""",
    "container_apps": """  provider: azure
  region: westeurope
  resource_group: rg-{tenant}-data
  runtime:
    type: container_apps
    cluster_name: cae-{tenant}-{env}
    schedule: "{minute} 4 * * *"
  compute:
    cpu: "1"
    memory: "2Gi"
    max_runtime_seconds: 5400
  storage:
    bucket: {tenant_compact}lake/lake
    prefix: raw/{source}/{object}
""",
    "kubernetes": """  provider: aws
  runtime:
    type: kubernetes
    cluster_name: {tenant}-{env}-eks
    namespace: {tenant}-etl
    schedule: "{minute} 3 * * *"
  compute:
    cpu: "2"
    memory: "4Gi"
    max_runtime_seconds: 3600
  storage:
    bucket: {tenant}-data-lake
    prefix: raw/{source}/{object}
""",
}

JOB = """# yaml-language-server: $schema=../../schemas/job-config.schema.json
# Synthetic job {index} of tenant {tenant}: {source} {object} on {runtime}.
tenant_id: {tenant}
environment: {env}

source_connector: {source}
source_connector_path: /app/connectors/{source}.yaml
target_connector: iceberg
target_connector_path: /app/connectors/iceberg.yaml

asset: {source}_{object}
asset_path: /app/assets/{source}/v1.0/{object}.yaml

source:
  objects: [{object}]
  incremental:
    strategy: updated_at
    cursor_field: updated_at
    lookback_days: 1

target:
  branch: {tenant}
  warehouse: s3://{tenant}-data-lake/
  connection:
    nessie:
      uri: "${{NESSIE_URI}}"

infrastructure:
{infrastructure}  tags:
    CostCenter: CC-{cost}
    Team: data-engineering
    Owner: data-team@{tenant}.example
    Application: analytics-{index}
    DataDomain: {source}
    Tier: gold
    OnCall: platform-oncall
    Criticality: medium
  dagster:
    code_location: {tenant}-etl-{env}
    repository: etl_jobs
    op_config:
      max_retries: 2
      retry_delay_seconds: 30
    resource_requirements:
      request_cpu: "1"
      request_memory: "2Gi"
      limit_cpu: "2"
      limit_memory: "4Gi"

finops:
  cost_center: CC-{cost}
  business_tags: [{source}, {object}, analytics]
  project: data-platform
  environment: {env}

retry_config:
  max_attempts: 3
  initial_delay_seconds: 10
  max_delay_seconds: 300
  backoff_multiplier: 2.0

logging:
  level: INFO
  redaction: true
"""

ASSET = """asset:
  name: {source}_{object}
  source_type: {source}
  object: {object}
  version: "1.0"
  schema:
    - {{name: id, type: string, required: true}}
    - {{name: email, type: string, required: false, classification: PII}}
    - {{name: updated_at, type: timestamp, required: true}}
  governance:
    owner: data-team@example.com
  compliance:
    classification: [PII]
    retention_days: 365
    regulations: [GDPR, SOX]
  finops:
    cost_center: FIN-{n:03d}
    business_tags: [{source}]
    project: lake
  target:
    file_format: parquet
    partitioning: [ingest_date]
"""

SOURCES = ("stripe", "hubspot", "salesforce", "postgres", "zendesk")


def generate(out: str, tenants: int, jobs_per_tenant: int, runtimes=tuple(RUNTIMES)) -> list[str]:
    """Write a fleet under ``out`` (replacing it); return the job file paths."""
    root = Path(out)
    if root.exists():
        shutil.rmtree(root)
    assets = root / "assets"
    for n in range(ASSET_COUNT):
        source, obj = SOURCES[n % len(SOURCES)], f"object{n}"
        path = assets / source / "v1.0" / f"{obj}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(ASSET.format(source=source, object=obj, n=n))
    files = []
    for t in range(tenants):
        tenant = f"tenant{t:03d}"
        folder = root / tenant
        folder.mkdir(parents=True)
        for j in range(jobs_per_tenant):
            runtime = runtimes[(t + j) % len(runtimes)]
            n = j % ASSET_COUNT
            fields = dict(tenant=tenant, tenant_compact=tenant.replace("-", ""), env="prod", index=j, minute=j % 60,
                          source=SOURCES[n % len(SOURCES)], object=f"object{n}", cost=100 + j % 7, runtime=runtime)
            text = JOB.format(infrastructure=RUNTIMES[runtime].format(**fields), **fields)
            path = folder / f"job_{j:05d}.yaml"
            path.write_text(text)
            files.append(str(path))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=100, help="jobs per tenant")
    args = parser.parse_args()
    files = generate(args.out, args.tenants, args.jobs)
    print(f"wrote {len(files)} job files under {os.path.abspath(args.out)}")


if __name__ == "__main__":
    main()
