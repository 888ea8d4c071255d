"""What the credential checks work with: a live credential, where it lives, and its assessed row.

`Credential` is what the inventory read (no secret values, ever); `CredentialRow` is one line of
`creds check` output, of `drift.json`'s `credentials` list and of the HTML section: the credential,
the instance that manages it, its policy and its status on a given date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# Kind names exactly as in the profile configuration (`profiles.<type>.credentials.<kind>`).
ACM_CERTIFICATE = "acm_certificate"
IAM_SERVER_CERTIFICATE = "iam_server_certificate"
IAM_ACCESS_KEY = "iam_access_key"
SECRETSMANAGER_SECRET = "secretsmanager_secret"
KMS_KEY = "kms_key"
KINDS = (ACM_CERTIFICATE, IAM_SERVER_CERTIFICATE, IAM_ACCESS_KEY, SECRETSMANAGER_SECRET, KMS_KEY)
GLOBAL_KINDS = frozenset({IAM_SERVER_CERTIFICATE, IAM_ACCESS_KEY})   # IAM is not regional

# Statuses, most severe first (a credential with several problems shows the most severe).
EXPIRED, CRITICAL, OVERDUE, ROTATION_DISABLED, EXPIRING, OK = (
    "expired", "critical", "overdue", "rotation_disabled", "expiring", "ok")
STATUS_ORDER = (EXPIRED, CRITICAL, OVERDUE, ROTATION_DISABLED, EXPIRING, OK)
# One rule for the suite and `creds check`: these fail a test item and make `creds check` exit 1
# (`rotation_disabled` exists only under `require_rotation: true`) ...
FAILING = frozenset({EXPIRED, CRITICAL, OVERDUE, ROTATION_DISABLED})
WARNING = frozenset({EXPIRING})            # ... this warns in the suite and leaves `creds check` at 0

GLOBAL_REGION = "global"          # the region label of an IAM scope


def most_severe(statuses: list[str]) -> str:
    """The most severe of several statuses (`ok` for none)."""
    return min(statuses, key=STATUS_ORDER.index, default=OK)


def status_summary(statuses: Iterable[str]) -> str:
    """`1 expired, 2 critical, 10 ok` (most severe first; empty string for none)."""
    counts: dict[str, int] = {}
    for status in statuses:
        counts[status] = counts.get(status, 0) + 1
    return ", ".join(f"{counts[s]} {s}" for s in STATUS_ORDER if s in counts)


def utc(value: datetime | None) -> datetime | None:
    """An aware UTC datetime (boto3 returns local-zone datetimes; naive ones are taken as UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    """`2027-01-05T02:07:31Z`, or None."""
    value = utc(value)
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


@dataclass(frozen=True)
class Scope:
    """An account and region reached by the selected instances (`region` is `global` for IAM).

    `account` is None for the default account of the session pool.
    """

    account: str | None
    region: str

    @property
    def id(self) -> str:
        """`123456789012/eu-west-1`, `default/global`: the id of the unmanaged-credentials item."""
        return f"{self.account or 'default'}/{self.region}"

    @property
    def is_global(self) -> bool:
        return self.region == GLOBAL_REGION

    def holds(self, kind: str) -> bool:
        """True when credentials of `kind` are listed in this scope (IAM kinds only in global scopes)."""
        return (kind in GLOBAL_KINDS) == self.is_global


@dataclass(frozen=True)
class Credential:
    """One live credential as the inventory read it. Never holds a secret value.

    `id` is the key everything uses: the ARN for ACM certificates and secrets, the name for IAM
    server certificates (moto gives them all one ServerCertificateId), the access key id, the KMS
    key id. `changed_at` is what age is measured from (key creation, last secret change).
    """

    kind: str
    id: str
    arn: str | None
    name: str | None
    account: str | None
    region: str | None                 # None for IAM (global)
    expires_at: datetime | None = None
    changed_at: datetime | None = None
    active: bool = True                # inactive access keys are not assessed for age
    rotation_enabled: bool | None = None   # None: rotation does not apply or is not supported
    details: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def refs(self) -> frozenset[str]:
        """Every string a Terraform state may hold for this credential (id, ARN, name)."""
        return frozenset(v for v in (self.id, self.arn) if v)

    def matches(self, text: str) -> bool:
        """True when `text` names this credential: its id, ARN or name."""
        return text in (self.id, self.arn, self.name)


@dataclass(frozen=True)
class Assessment:
    """A credential's standing on a date under a policy."""

    status: str
    days_left: int | None              # to expiry, or (for a max age) to becoming overdue
    age_days: int | None
    reason: str


@dataclass(frozen=True)
class CredentialRow:
    """A credential, the instance managing it (None: unmanaged), its policy and assessment.

    `unlinked` names the in-scope instances whose state could not be read: any of them may manage
    the credential, so it is neither linked nor known to be unmanaged.
    """

    credential: Credential
    instance: str | None
    policy: Mapping[str, Any]
    assessment: Assessment
    unlinked: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return self.assessment.status

    def to_json(self) -> dict[str, Any]:
        """The row shape of `creds check --format json` and of `drift.json`'s `credentials`."""
        c = self.credential
        return {"kind": c.kind, "id": c.id, "arn": c.arn, "name": c.name, "account": c.account,
                "region": c.region, "instance": self.instance, "expires_at": iso(c.expires_at),
                "days_left": self.assessment.days_left, "age_days": self.assessment.age_days,
                "status": self.assessment.status, "policy": dict(self.policy), "unlinked": list(self.unlinked)}


UNLINKED_LABEL = "unlinked (state unreadable)"


def owner_label(row: Mapping[str, Any]) -> str:
    """The instance column of a JSON row: the instance, `unlinked (state unreadable)` or `(unmanaged)`."""
    if row.get("instance"):
        return str(row["instance"])
    return UNLINKED_LABEL if row.get("unlinked") else "(unmanaged)"


def row_order(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """Sort key for JSON rows: fewest days left first, rows without a deadline last."""
    days = row.get("days_left")
    return (days is None, days if days is not None else 0, STATUS_ORDER.index(row.get("status", OK)),
            row.get("kind") or "", row.get("id") or "")


STATE_ERROR_KIND = "terraform_state"   # the `kind` of an error reading an instance's state


@dataclass(frozen=True)
class InventoryError:
    """A part of the inventory (or an instance's state) that could not be read; never counted as clean."""

    kind: str
    scope: str
    message: str
    credential: str | None = None
    instance: str | None = None        # set for an unreadable state (kind `terraform_state`)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "scope": self.scope, "credential": self.credential, "instance": self.instance,
                "message": self.message}


def now_utc() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)
