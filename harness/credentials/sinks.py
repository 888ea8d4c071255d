"""Reading an access key sink: can it take a new key (before one is created), and does it already
hold a given key? (Resuming after a stop.)

The sink's value is a secret: every string in it is registered with the redactor as soon as it is
read, and only the access key id is compared.
"""

from __future__ import annotations

import json

from harness.aws.errors import AWS_ERRORS, describe_error, error_code
from harness.credentials.aws import Clients
from harness.log import Redactor

MISSING = ("ResourceNotFoundException", "ParameterNotFound")


def sink_key_id(clients: Clients, sink_type: str, name: str, region: str | None, redactor: Redactor) -> str | None:
    """The access key id the sink currently holds (None when it is empty, missing or not ours)."""
    try:
        if sink_type == "secretsmanager":
            text = clients("secretsmanager", region).get_secret_value(SecretId=name).get("SecretString")
        else:
            text = clients("ssm", region).get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except AWS_ERRORS as exc:
        if error_code(exc) in MISSING:
            return None
        raise
    if not text:
        return None
    redactor.register(text)
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    redactor.register([v for k, v in value.items() if k != "AccessKeyId" and k != "UserName"])
    key_id = value.get("AccessKeyId")
    return key_id if isinstance(key_id, str) else None


def sink_problem(clients: Clients, sink_type: str, name: str, region: str | None) -> str | None:
    """Why the sink cannot take a new key (None when it can), read-only.

    A Secrets Manager sink must be an existing secret that is not scheduled for deletion (the key is
    stored as a new version of it); an SSM parameter is created by the write itself.
    """
    if sink_type != "secretsmanager":
        return None
    try:
        secret = clients("secretsmanager", region).describe_secret(SecretId=name)
    except AWS_ERRORS as exc:
        if error_code(exc) in MISSING:
            return f"the sink secret {name!r} does not exist"
        return f"cannot check the sink secret {name!r}: {describe_error(exc)}"
    if secret.get("DeletedDate"):
        return f"the sink secret {name!r} is scheduled for deletion"
    return None
