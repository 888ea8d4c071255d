"""Rotation records: a small JSON object per credential in S3 saying where its rotation stands.

Location: `rotation_store` (an S3 URL) when configured, else the backend bucket of the instance
managing the credential, under `stackharness/rotations/`. Key: `<prefix><kind>/<readable id>-<hash>.json`.
Writes are conditional (If-Match on the ETag read, If-None-Match for a new record), so two runs
rotating the same credential cannot overwrite each other's progress. Never holds a secret value.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from harness.aws.batching import paginate
from harness.aws.errors import AWS_ERRORS, describe_error, error_code
from harness.credentials.aws import Clients
from harness.credentials.model import Credential, iso
from harness.credentials.writes import CredentialWriter
from harness.errors import ConfigError, HarnessError

DEFAULT_PREFIX = "stackharness/rotations/"
STARTED, COMPLETED = "started", "completed"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class RecordStoreError(HarnessError):
    """A rotation record could not be read or written."""


@dataclass(frozen=True)
class StoreLocation:
    """An S3 bucket and key prefix holding rotation records."""

    bucket: str
    prefix: str = DEFAULT_PREFIX
    region: str | None = None

    @classmethod
    def parse(cls, url: str, *, region: str | None = None, where: str = "rotation_store") -> StoreLocation:
        """`s3://bucket/some/prefix/` (the prefix defaults to `stackharness/rotations/`)."""
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise ConfigError(f"{where} {url!r} is not an S3 URL", hint="write it as s3://bucket/prefix/")
        prefix = parsed.path.lstrip("/")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        return cls(parsed.netloc, prefix or DEFAULT_PREFIX, region)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def key_for(self, kind: str, credential_id: str) -> str:
        """`<prefix><kind>/<readable id>-<hash>.json` (ARNs hold characters keys should not)."""
        readable = _UNSAFE.sub("_", credential_id)[-120:].strip("_")
        digest = hashlib.sha256(credential_id.encode()).hexdigest()[:12]
        return f"{self.prefix}{kind}/{readable}-{digest}.json"


@dataclass(frozen=True)
class RotationRecord:
    """Where one credential's rotation stands: its state, the data its steps need, and any stop."""

    kind: str
    credential_id: str
    name: str | None
    arn: str | None
    account: str | None
    region: str | None
    instance: str | None
    state: str
    started_at: str
    updated_at: str
    run_id: str
    data: Mapping[str, Any] = field(default_factory=dict)
    history: tuple[Mapping[str, Any], ...] = ()
    error: Mapping[str, Any] | None = None

    @classmethod
    def begin(cls, credential: Credential, instance: str | None, data: Mapping[str, Any], *, now: datetime,
              run_id: str) -> RotationRecord:
        """A new record in state `started`."""
        at = iso(now) or ""
        return cls(kind=credential.kind, credential_id=credential.id, name=credential.name, arn=credential.arn,
                   account=credential.account, region=credential.region, instance=instance, state=STARTED,
                   started_at=at, updated_at=at, run_id=run_id, data=dict(data),
                   history=({"at": at, "state": STARTED, "run": run_id, "note": "rotation started"},))

    @property
    def finished(self) -> bool:
        return self.state == COMPLETED

    def advanced(self, state: str, *, now: datetime, run_id: str, note: str, **data: Any) -> RotationRecord:
        """The record moved to `state` (data merged, any earlier stop cleared)."""
        at = iso(now) or ""
        return dataclasses.replace(self, state=state, updated_at=at, run_id=run_id, data={**self.data, **data},
                                   history=(*self.history, {"at": at, "state": state, "run": run_id, "note": note}),
                                   error=None)

    def stopped(self, step: str, message: str, *, now: datetime, run_id: str) -> RotationRecord:
        """The record says where the rotation stopped and why (the state stays: a re-run continues there)."""
        return dataclasses.replace(self, updated_at=iso(now) or "", run_id=run_id,
                                   error={"at": iso(now), "step": step, "message": message, "run": run_id})

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["history"] = [dict(h) for h in self.history]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RotationRecord:
        values = {f.name: data.get(f.name) for f in dataclasses.fields(cls)}
        values["data"] = dict(values["data"] or {})
        values["history"] = tuple(values["history"] or ())
        return cls(**values)


@dataclass(frozen=True)
class StoredRecord:
    """A record and the ETag it was read or written with (for the next conditional write)."""

    record: RotationRecord
    etag: str | None


class RecordStore:
    """Reads and conditionally writes rotation records in one `StoreLocation`."""

    def __init__(self, location: StoreLocation, clients: Clients, writer: CredentialWriter) -> None:
        self.location = location
        self._clients = clients
        self._writer = writer

    def _s3(self) -> Any:
        return self._clients("s3", self.location.region)

    def load(self, kind: str, credential_id: str) -> StoredRecord | None:
        """The record of a credential, or None when it has none."""
        return self._load_key(self.location.key_for(kind, credential_id))

    def _load_key(self, key: str) -> StoredRecord | None:
        try:
            response = self._s3().get_object(Bucket=self.location.bucket, Key=key)
        except AWS_ERRORS as exc:
            if error_code(exc) in ("NoSuchKey", "404", "NotFound"):
                return None
            raise self._error("read", key, exc) from None
        try:
            record = RotationRecord.from_json(json.loads(response["Body"].read()))
        except (ValueError, TypeError) as exc:
            raise RecordStoreError(f"rotation record is not valid: {exc}", where=f"s3://{self.location.bucket}/{key}",
                                   hint="restore a previous version of the object or delete it") from None
        return StoredRecord(record, response.get("ETag"))

    def save(self, record: RotationRecord, etag: str | None) -> str:
        """Write a record; returns its new ETag. Refused when someone else wrote it meanwhile."""
        key = self.location.key_for(record.kind, record.credential_id)
        body = json.dumps(record.to_json(), indent=1, sort_keys=True).encode()
        try:
            return self._writer.put_record(self.location.bucket, key, self.location.region, body, etag)
        except AWS_ERRORS as exc:
            if error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise RecordStoreError("the rotation record changed while this run was using it",
                                       where=f"s3://{self.location.bucket}/{key}",
                                       hint="another rotation of this credential is running; let it finish, "
                                            "then re-run") from None
            raise self._error("write", key, exc) from None

    def records(self) -> Iterator[StoredRecord]:
        """Every record in the location (for `--due`: unfinished rotations continue)."""
        try:
            keys = [o["Key"] for o in paginate(self._s3(), "list_objects_v2", "Contents",
                                               Bucket=self.location.bucket, Prefix=self.location.prefix)]
        except AWS_ERRORS as exc:
            if error_code(exc) == "NoSuchBucket":
                return
            raise self._error("list", self.location.prefix, exc) from None
        for key in keys:
            stored = self._load_key(key) if key.endswith(".json") else None
            if stored is not None:
                yield stored

    def _error(self, verb: str, key: str, exc: BaseException) -> RecordStoreError:
        return RecordStoreError(f"cannot {verb} the rotation record: {describe_error(exc)}",
                                where=f"s3://{self.location.bucket}/{key}",
                                hint="check rotation_store (an S3 URL whose bucket exists and is writable)")
