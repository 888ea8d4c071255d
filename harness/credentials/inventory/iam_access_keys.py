"""IAM users' access keys: age, status and when each was last used."""

from __future__ import annotations

from harness.aws.batching import paginate
from harness.aws.errors import AWS_ERRORS, describe_error
from harness.credentials.aws import Clients, account_of
from harness.credentials.model import IAM_ACCESS_KEY, Credential, InventoryError, Scope, iso, utc


def read(clients: Clients, scope: Scope, errors: list[InventoryError]) -> list[Credential]:
    """Every access key of every IAM user of the account."""
    iam = clients("iam", None)
    found = []
    for user in paginate(iam, "list_users", "Users"):
        name = user["UserName"]
        try:
            keys = list(paginate(iam, "list_access_keys", "AccessKeyMetadata", UserName=name))
        except AWS_ERRORS as exc:
            errors.append(InventoryError(IAM_ACCESS_KEY, scope.id, describe_error(exc), credential=name))
            continue
        for key in keys:
            key_id = key["AccessKeyId"]
            try:
                used = iam.get_access_key_last_used(AccessKeyId=key_id).get("AccessKeyLastUsed", {})
            except AWS_ERRORS as exc:
                errors.append(InventoryError(IAM_ACCESS_KEY, scope.id, describe_error(exc), credential=key_id))
                continue
            found.append(Credential(
                kind=IAM_ACCESS_KEY, id=key_id, arn=None, name=name, account=account_of(user.get("Arn")),
                region=None, changed_at=utc(key.get("CreateDate")), active=key.get("Status") == "Active",
                details={"user": name, "status": key.get("Status"),
                         "last_used_at": iso(utc(used.get("LastUsedDate"))),
                         "last_used_service": _known(used.get("ServiceName")),
                         "last_used_region": _known(used.get("Region"))},
            ))
    return found


def _known(value: str | None) -> str | None:
    return None if value in (None, "N/A") else value
