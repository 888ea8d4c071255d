"""Secrets Manager rotation: ask the secret's own rotation function to rotate it now.

    started --RotateSecret--> completed

Secrets without a rotation function are refused and reported (the harness cannot know how to
make a new value for them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.credentials.model import SECRETSMANAGER_SECRET
from harness.credentials.records import COMPLETED, STARTED, RotationRecord
from harness.credentials.rotation.engine import Advance, RotationContext, RotationRefused, RotationTarget


class SecretRotator:
    kind = SECRETSMANAGER_SECRET
    states = (STARTED, COMPLETED)

    def preflight(self, target: RotationTarget, ctx: RotationContext) -> Mapping[str, Any]:
        c = target.credential
        function = c.details.get("rotation_function")
        if not function:
            raise RotationRefused(f"secret {c.name} has no rotation function: the harness cannot make a new value",
                                  hint="configure rotation for it (aws_secretsmanager_secret_rotation with a "
                                       "Lambda function), then re-run")
        return {"rotation_function": function}

    def steps(self, target: RotationTarget, data: Mapping[str, Any]) -> list[str]:
        return [f"call RotateSecret (function {data.get('rotation_function')})"]

    def advance(self, target: RotationTarget, record: RotationRecord, ctx: RotationContext) -> Advance:
        version = ctx.writer.rotate_secret(target.credential.arn or record.credential_id, target.credential.region,
                                           record.data["rotation_function"])
        return Advance(record.advanced(COMPLETED, now=ctx.now, run_id=ctx.run_id,
                                       note=f"rotated to version {version}", version_id=version))
