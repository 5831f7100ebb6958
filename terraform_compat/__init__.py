"""Terraform compatibility: the tfvars exporter (Python) and the modules that consume it (``modules/``)."""
from .exporter import FORMATS, ExportResult, export_job, render, render_backend, terraform_variables, write_atomic
from .tree import TreeExport, backend_output_path, export_tree, remove_stale, tree_output_path

__all__ = [
    "FORMATS", "ExportResult", "TreeExport", "backend_output_path", "export_job", "export_tree", "remove_stale", "render", "render_backend",
    "terraform_variables", "tree_output_path", "write_atomic",
]
