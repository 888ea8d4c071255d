"""Certificate sources: where the renewed certificate for an ACM or IAM server certificate comes from.

Configured as `certificate_sources: {<key>: <source>}`. The key is the certificate's id, ARN, name
or one of its domain names; the source is a local PEM file (relative to the stacks repo) or an S3
object `s3://bucket/key`, holding the certificate, its chain and its unencrypted private key.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from harness.aws.errors import AWS_ERRORS, describe_error
from harness.credentials.aws import Clients
from harness.credentials.certificates import CertificateBundle, CertificateError, parse_bundle
from harness.credentials.model import Credential, iso
from harness.log import Redactor


def source_for(sources: Mapping[str, str], credential: Credential) -> str | None:
    """The configured source for a certificate: by id, ARN, name, then each of its domain names."""
    keys = [credential.id, credential.arn, credential.name, *credential.details.get("domains", ())]
    return next((sources[k] for k in keys if k and k in sources), None)


def load_source(source: str, *, clients: Clients, redactor: Redactor, base_dir: Path) -> CertificateBundle:
    """Read and parse a certificate source; its private key is registered with `redactor` on reading."""
    if source.startswith("s3://"):
        parsed = urllib.parse.urlparse(source)
        try:
            body = clients("s3", None).get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"].read()
        except AWS_ERRORS as exc:
            raise CertificateError(f"cannot read the certificate source: {describe_error(exc)}", where=source,
                                   hint="upload the renewed certificate bundle there, or fix certificate_sources"
                                   ) from None
        text = body.decode("utf-8", "replace")
    else:
        path = Path(source).expanduser()
        path = path if path.is_absolute() else base_dir / path
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CertificateError(f"cannot read the certificate source: {exc.strerror}", where=path,
                                   hint="put the renewed PEM bundle there, or fix certificate_sources") from None
    redactor.register(text)   # the whole bundle holds a private key; masked as one value too
    return parse_bundle(text, source=source, redactor=redactor)


def replacement_problem(current: Credential, current_domains: frozenset[str], bundle: CertificateBundle,
                        now: datetime) -> str | None:
    """Why a replacement must not be used (None when it may): expired, expires sooner, other domains."""
    new = bundle.certificate
    if new.not_after <= now:
        return f"the replacement from {bundle.source} expired at {iso(new.not_after)}"
    if current.expires_at is not None and new.not_after < current.expires_at:
        return (f"the replacement from {bundle.source} expires at {iso(new.not_after)}, sooner than the current "
                f"certificate ({iso(current.expires_at)})")
    if current_domains and new.domains != current_domains:
        missing, extra = sorted(current_domains - new.domains), sorted(new.domains - current_domains)
        parts = [f"missing {', '.join(missing)}" if missing else "", f"adds {', '.join(extra)}" if extra else ""]
        return (f"the replacement from {bundle.source} names other domains than the current certificate "
                f"({'; '.join(p for p in parts if p)})")
    return None
