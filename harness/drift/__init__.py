"""Drift analysis: compare Terraform state with live AWS, findings, suppressions."""
