"""S3 resource types."""

from __future__ import annotations

from harness.inventory.normalise import tags_from_list
from harness.inventory.spec import Attr, Detail, Listing, ResourceType

BUCKET_TAGS = Detail(key="Tagging", operation="get_bucket_tagging",
                     params=lambda item: {"Bucket": item["Name"]},
                     extract=lambda response: response.get("TagSet", []),
                     absent_codes=("NoSuchTagSet",), default=[])

S3_BUCKET = ResourceType(
    type="aws_s3_bucket",
    service="s3",
    listing=Listing("list_buckets", "Buckets", global_service=True),
    id_field="Name",
    details=(BUCKET_TAGS,),
    attributes=(
        Attr("bucket", "Name"),
        Attr("tags_all", lambda item: tags_from_list(item.get("Tagging")), compare="tags"),
    ),
)

TYPES = (S3_BUCKET,)
