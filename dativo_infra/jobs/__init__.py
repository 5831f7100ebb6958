"""Job files and asset definitions → one validated model."""
from .loader import Job, LoadResult, discover, job_name, load_job, load_jobs
from .models import AssetDefinition, InfrastructureConfig, JobConfig
from .rules import effective_runtime, max_retries

__all__ = [
    "AssetDefinition", "InfrastructureConfig", "Job", "JobConfig", "LoadResult",
    "discover", "effective_runtime", "job_name", "load_job", "load_jobs", "max_retries",
]
