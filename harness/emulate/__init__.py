"""Emulated `terraform apply` for the demo and drift scenarios, on moto.

The AWS provider cannot be downloaded here, so `terraform apply` of an AWS component cannot run.
This package stands in for it, and only for that: it creates each resource of a component with
boto3 and writes the Terraform v4 state the AWS provider v5 would write (and the digest item), at
the state key the stack resolver computed. Everything downstream (state reader, inventory, drift)
is the real product path.
"""
