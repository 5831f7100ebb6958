"""Tags: the pure merge with precedence, per-cloud formatting, and (lazily) the Pulumi stack transformation."""
from .formats import CLOUDS, FORMATS
from .merge import LEVELS, LIST_SEPARATOR, TagCandidate, candidates
from .resolve import Provenance, TagSet, format_levels, tag_set

__all__ = ["CLOUDS", "FORMATS", "LEVELS", "LIST_SEPARATOR", "Provenance", "TagCandidate", "TagSet", "candidates", "format_levels", "tag_set"]
