"""The replacement certificate of a rotation: found, loaded and checked against the current one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.credentials.certificates import CertificateBundle, CertificateError, serial_number
from harness.credentials.model import Credential, iso
from harness.credentials.rotation.engine import RotationContext, RotationRefused
from harness.credentials.sources import load_source, replacement_problem, source_for


def load_replacement(credential: Credential, ctx: RotationContext, *, source: str | None = None) -> CertificateBundle:
    """The replacement for a certificate, refused when missing, unreadable, sooner-expiring or for other names."""
    source = source or source_for(ctx.certificate_sources, credential)
    if source is None:
        raise RotationRefused(f"no certificate source for {credential.name or credential.id}",
                              hint=f"add certificate_sources: {{\"{credential.name or credential.id}\": "
                                   "path/to/bundle.pem or s3://bucket/key} with the renewed certificate and key")
    try:
        bundle = load_source(source, clients=ctx.clients, redactor=ctx.redactor, base_dir=ctx.base_dir)
    except CertificateError as exc:
        raise RotationRefused(exc.what, where=exc.where, hint=exc.hint) from None
    domains = frozenset(d.lower() for d in credential.details.get("domains", ()))
    problem = replacement_problem(credential, domains, bundle, ctx.now)
    if problem:
        raise RotationRefused(problem, hint="put a renewed certificate for the same names in the source")
    if bundle.certificate.serial == serial_number(credential.details.get("serial")):
        raise RotationRefused(f"the source {source} holds the current certificate: nothing to rotate",
                              hint="put the renewed certificate there")
    return bundle


def replacement_data(bundle: CertificateBundle) -> Mapping[str, Any]:
    """What a record keeps about a replacement (no key material)."""
    cert = bundle.certificate
    return {"source": bundle.source, "replacement_serial": cert.serial_text,
            "replacement_fingerprint": cert.fingerprint, "replacement_not_after": iso(cert.not_after)}
