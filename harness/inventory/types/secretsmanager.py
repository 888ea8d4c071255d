"""Secrets Manager secrets: `ListSecrets` returns every compared attribute, tags included (batched)."""

from __future__ import annotations

from harness.inventory.normalise import empty_to_none, tags_from_list
from harness.inventory.spec import Attr, Listing, ResourceType

SECRETSMANAGER_SECRET = ResourceType(
    type="aws_secretsmanager_secret",
    service="secretsmanager",
    # Secrets scheduled for deletion are not listed: the provider treats them as gone too.
    listing=Listing("list_secrets", "SecretList", params={"MaxResults": 100}),   # largest page
    id_field="ARN",
    attributes=(
        Attr("name", "Name"),
        Attr("description", "Description", live=empty_to_none, state=empty_to_none),
        Attr("kms_key_id", "KmsKeyId", live=empty_to_none, state=empty_to_none),
        Attr("tags_all", lambda s: tags_from_list(s.get("Tags")), compare="tags"),
    ),
    name_of=lambda s: s["Name"],
)

TYPES = (SECRETSMANAGER_SECRET,)
