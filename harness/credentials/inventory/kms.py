"""KMS customer managed keys and whether automatic rotation is on.

AWS managed keys rotate themselves and are skipped. Automatic rotation exists only for symmetric
keys with AWS-generated material; for the others `rotation_enabled` is None (does not apply).
"""

from __future__ import annotations

from harness.aws.batching import paginate
from harness.aws.errors import AWS_ERRORS, describe_error
from harness.credentials.aws import Clients
from harness.credentials.model import KMS_KEY, Credential, InventoryError, Scope, utc

GONE = frozenset({"PendingDeletion", "PendingReplicaDeletion"})


def read(clients: Clients, scope: Scope, errors: list[InventoryError]) -> list[Credential]:
    """Every customer managed key in the scope's region."""
    kms = clients("kms", scope.region)
    aliases: dict[str, str] = {}
    for alias in paginate(kms, "list_aliases", "Aliases"):
        if alias.get("TargetKeyId"):
            aliases.setdefault(alias["TargetKeyId"], alias["AliasName"])
    found = []
    for key in paginate(kms, "list_keys", "Keys"):
        key_id = key["KeyId"]
        try:
            meta = kms.describe_key(KeyId=key_id)["KeyMetadata"]
            if meta.get("KeyManager") != "CUSTOMER" or meta.get("KeyState") in GONE:
                continue
            rotatable = meta.get("KeySpec", "SYMMETRIC_DEFAULT") == "SYMMETRIC_DEFAULT" and \
                meta.get("Origin", "AWS_KMS") == "AWS_KMS"
            enabled = kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"] if rotatable else None
        except AWS_ERRORS as exc:
            errors.append(InventoryError(KMS_KEY, scope.id, describe_error(exc), credential=key_id))
            continue
        found.append(Credential(
            kind=KMS_KEY, id=key_id, arn=meta.get("Arn"), name=aliases.get(key_id) or meta.get("Description") or None,
            account=meta.get("AWSAccountId"), region=scope.region, changed_at=utc(meta.get("CreationDate")),
            rotation_enabled=enabled,
            details={"key_state": meta.get("KeyState"), "key_spec": meta.get("KeySpec"), "origin": meta.get("Origin")},
        ))
    return found
