"""Secrets Manager secrets: rotation enabled, last and next rotation, age since the last change.

Only metadata is listed; no secret value is ever read here.
"""

from __future__ import annotations

from harness.aws.batching import paginate
from harness.credentials.aws import Clients, account_of
from harness.credentials.model import SECRETSMANAGER_SECRET, Credential, InventoryError, Scope, iso, utc


def read(clients: Clients, scope: Scope, errors: list[InventoryError]) -> list[Credential]:
    """Every secret in the scope's region (secrets scheduled for deletion are not listed)."""
    found = []
    for secret in paginate(clients("secretsmanager", scope.region), "list_secrets", "SecretList"):
        arn = secret["ARN"]
        dates = [utc(secret.get(k)) for k in ("LastChangedDate", "LastRotatedDate", "CreatedDate")]
        changed = max((d for d in dates if d is not None), default=None)
        function = secret.get("RotationLambdaARN") or None
        found.append(Credential(
            kind=SECRETSMANAGER_SECRET, id=arn, arn=arn, name=secret.get("Name"), account=account_of(arn),
            region=scope.region, changed_at=changed, rotation_enabled=bool(secret.get("RotationEnabled")),
            details={"rotation_function": function,
                     "rotation_days": (secret.get("RotationRules") or {}).get("AutomaticallyAfterDays"),
                     "last_rotated_at": iso(utc(secret.get("LastRotatedDate"))),
                     "next_rotation_at": iso(utc(secret.get("NextRotationDate"))),
                     "last_changed_at": iso(utc(secret.get("LastChangedDate"))),
                     "owning_service": secret.get("OwningService")},
        ))
    return found
