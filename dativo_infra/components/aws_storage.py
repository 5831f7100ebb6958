"""An S3 bucket a job's stack owns: encrypted, versioned, private, and never deleted by ``destroy``."""
from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

from .args import CommonArgs

if TYPE_CHECKING:
    from .base import JobComponent


def create_bucket(component: JobComponent, a: CommonArgs) -> pulumi.Output[str]:
    """Create the job's bucket under ``component``; returns its name."""
    # data outlives stacks: protected and retained, so `destroy` never deletes it
    bucket = aws.s3.Bucket(*component.child("bucket", protect=True, retain_on_delete=True), bucket=a.storage_bucket, region=a.region)
    key = a.storage_kms_key_id
    aws.s3.BucketServerSideEncryptionConfiguration(
        *component.child("bucket-encryption"), bucket=bucket.id, rules=[{
            "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms" if key else "AES256", **({"kms_master_key_id": key} if key else {})},
            "bucket_key_enabled": bool(key)}], region=a.region)
    aws.s3.BucketVersioning(*component.child("bucket-versioning"), bucket=bucket.id, versioning_configuration={"status": "Enabled"}, region=a.region)
    aws.s3.BucketPublicAccessBlock(
        *component.child("bucket-public-access"), bucket=bucket.id, block_public_acls=True, block_public_policy=True,
        ignore_public_acls=True, restrict_public_buckets=True, region=a.region)
    return bucket.bucket
