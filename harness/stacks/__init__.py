"""Atmos stack resolution: atmos.yaml + stack manifests -> an immutable `StackSet`."""

from harness.stacks.loader import load
from harness.stacks.model import ComponentInstance, ResolutionProblem, StackSet, instance_id

__all__ = ["ComponentInstance", "ResolutionProblem", "StackSet", "instance_id", "load"]
