"""Terraform compatibility: the tfvars exporter (Python) and the modules that consume it (``modules/``)."""
from .exporter import FORMATS, ExportResult, export_job, render, render_backend, terraform_variables, tree_output_path, write_atomic

__all__ = ["FORMATS", "ExportResult", "export_job", "render", "render_backend", "terraform_variables", "tree_output_path", "write_atomic"]
