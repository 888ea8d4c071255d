"""Terraform state access: reading states from the S3 backend (locks and verification build on it)."""

from harness.state.model import ResourceInstance, TerraformState
from harness.state.reader import parse_state, read_state

__all__ = ["ResourceInstance", "TerraformState", "parse_state", "read_state"]
