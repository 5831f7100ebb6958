"""GCP grants of a job's runner identity, shared by Cloud Run jobs and Kubernetes on GKE.

Objects are granted through an IAM condition on ``resource.name`` (only names
under the prefix match). Listing is checked against the bucket, which a
``resource.name`` condition on objects never matches, so it is a separate,
unconditioned ``legacyBucketReader`` grant: it lists object *names* bucket-wide
but reads no content (docs/runtimes.md says so).
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Optional

import pulumi
import pulumi_gcp as gcp

from . import lookups
from .args import CommonArgs

if TYPE_CHECKING:
    from .base import JobComponent


OBJECT_ADMIN = "roles/storage.objectAdmin"
BUCKET_LISTER = "roles/storage.legacyBucketReader"
KMS_USER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"


def objects_condition(bucket: str, prefix: str) -> Optional[dict]:
    """The IAM condition that limits object roles to names under ``prefix/`` (None: the whole bucket)."""
    if not prefix:
        return None
    # json.dumps gives a double-quoted string literal with the escapes CEL accepts
    path = json.dumps(f"projects/_/buckets/{bucket}/objects/{prefix}/")
    return {"title": "dativo job prefix only", "description": f"objects under gs://{bucket}/{prefix}/",
            "expression": f"resource.name.startsWith({path})"}


def member_of(email: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.from_input(email).apply(lambda e: f"serviceAccount:{e}")


def grant_storage(component: JobComponent, a: CommonArgs, member: pulumi.Input[str], bucket: pulumi.Input[str]) -> None:
    """Objects under the job's prefix, listing of its bucket, and use of its KMS key only."""
    if a.storage_bucket:
        condition = objects_condition(a.storage_bucket, a.storage_prefix)
        gcp.storage.BucketIAMMember(*component.child("objects-iam"), bucket=bucket, role=OBJECT_ADMIN, member=member,
                                    **({"condition": condition} if condition else {}))
        gcp.storage.BucketIAMMember(*component.child("list-iam"), bucket=bucket, role=BUCKET_LISTER, member=member)
    if a.storage_kms_key_id:
        gcp.kms.CryptoKeyIAMMember(*component.child("kms-iam"), crypto_key_id=a.storage_kms_key_id, role=KMS_USER, member=member)


def create_bucket(component: JobComponent, a: CommonArgs) -> pulumi.Output[str]:
    """The job's bucket, when this stack owns it: private, versioned, CMEK when a key is given, never destroyed."""
    key = a.storage_kms_key_id
    depends = []
    if key:
        # Cloud Storage encrypts with the key as its own service agent, which must be allowed to use it
        depends.append(gcp.kms.CryptoKeyIAMMember(
            *component.child("bucket-kms-iam"), crypto_key_id=key, role=KMS_USER,
            member=lookups.gcs_service_agent_email().apply(lambda e: f"serviceAccount:{e}")))
    bucket = gcp.storage.Bucket(
        *component.child("bucket", protect=True, retain_on_delete=True, depends_on=depends),
        name=a.storage_bucket, location=a.region, uniform_bucket_level_access=True,
        public_access_prevention="enforced", versioning={"enabled": True},
        **({"encryption": {"default_kms_key_name": key}} if key else {}))
    return bucket.name
