"""X.509 facts the checks and rotations need, parsed with `cryptography` from PEM text.

IAM server certificates are assessed from their body: the API's `Expiration` can be missing or
wrong (moto reports a fixed 2012 date). Replacement bundles are validated before any write: the
private key must match the certificate, which must not be expired and must name the same domains.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from harness.credentials.model import utc
from harness.errors import HarnessError
from harness.log import Redactor

_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", re.DOTALL)


class CertificateError(HarnessError):
    """A certificate or bundle that cannot be parsed or used."""


@dataclass(frozen=True)
class CertificateInfo:
    """What matters about one certificate: validity, names, identity."""

    not_before: datetime
    not_after: datetime
    domains: frozenset[str]            # common name and DNS subject alternative names, lower case
    serial: int
    fingerprint: str                   # SHA-256 of the DER encoding, hex
    pem: str

    @property
    def serial_text(self) -> str:
        """The serial as ACM's `describe_certificate` prints it (decimal)."""
        return str(self.serial)


@dataclass(frozen=True)
class CertificateBundle:
    """A replacement: the certificate, its private key (secret) and the chain, as PEM text."""

    certificate: CertificateInfo
    private_key_pem: str
    chain_pem: str | None
    source: str

    def __repr__(self) -> str:  # never show the key, even in a traceback
        return f"CertificateBundle(source={self.source!r}, fingerprint={self.certificate.fingerprint[:16]}…)"


def parse_certificate(pem: str | bytes, *, where: str = "certificate") -> CertificateInfo:
    """Parse one PEM certificate."""
    text = pem.decode("ascii", "replace") if isinstance(pem, bytes) else pem
    try:
        cert = x509.load_pem_x509_certificate(text.encode("ascii", "replace"))
    except ValueError as exc:
        raise CertificateError(f"not a PEM certificate: {exc}", where=where,
                               hint="the body must start with -----BEGIN CERTIFICATE-----") from None
    return _info(cert, text.strip() + "\n")


def _info(cert: x509.Certificate, pem: str) -> CertificateInfo:
    domains = {str(a.value).lower() for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)}
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        domains |= {name.lower() for name in san.get_values_for_type(x509.DNSName)}
    except x509.ExtensionNotFound:
        pass
    der = cert.public_bytes(serialization.Encoding.DER)
    return CertificateInfo(not_before=utc(cert.not_valid_before_utc), not_after=utc(cert.not_valid_after_utc),
                           domains=frozenset(domains), serial=cert.serial_number,
                           fingerprint=hashlib.sha256(der).hexdigest(), pem=pem)


def serial_number(text: str | None) -> int | None:
    """A serial as ACM prints it (`0a:1b:..` hex) or as moto does (decimal), as a number."""
    if not text:
        return None
    try:
        return int(text.replace(":", ""), 16) if ":" in text else int(text)
    except ValueError:
        return None


def pem_blocks(text: str) -> Iterable[tuple[str, str]]:
    """(label, block) for each PEM block in a text, in order."""
    for match in _PEM_BLOCK.finditer(text):
        yield match.group(1), match.group(0)


def parse_bundle(text: str, *, source: str, redactor: Redactor) -> CertificateBundle:
    """A PEM bundle (certificate, private key, optional chain) into a validated `CertificateBundle`.

    The private key is registered with `redactor` before anything else is done with it.
    """
    blocks = list(pem_blocks(text))
    keys = [block for label, block in blocks if label.endswith("PRIVATE KEY")]
    for key in keys:
        redactor.register(key)
    certs = [block for label, block in blocks if label == "CERTIFICATE"]
    if len(keys) != 1 or not certs:
        raise CertificateError(f"a certificate source needs one private key and at least one certificate "
                               f"(found {len(keys)} key(s), {len(certs)} certificate(s))", where=source,
                               hint="concatenate the certificate, its chain and the unencrypted private key in one PEM")
    try:
        key = serialization.load_pem_private_key(keys[0].encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise CertificateError(f"the private key cannot be read ({type(exc).__name__})", where=source,
                               hint="use an unencrypted PEM private key") from None
    public = key.public_key().public_bytes(serialization.Encoding.DER,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    leaf_index = None
    parsed = []
    for index, block in enumerate(certs):
        try:
            cert = x509.load_pem_x509_certificate(block.encode())
        except ValueError as exc:
            raise CertificateError(f"certificate {index + 1} of the bundle cannot be read: {exc}", where=source,
                                   hint="check the PEM text of the certificate and its chain") from None
        parsed.append(cert)
        spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
        if leaf_index is None and spki == public:
            leaf_index = index
    if leaf_index is None:
        raise CertificateError("the private key does not belong to any certificate in the bundle", where=source,
                               hint="put the matching certificate and key in the source")
    chain = [block for index, block in enumerate(certs) if index != leaf_index]
    return CertificateBundle(certificate=_info(parsed[leaf_index], certs[leaf_index].strip() + "\n"),
                             private_key_pem=keys[0].strip() + "\n",
                             chain_pem="\n".join(c.strip() for c in chain) + "\n" if chain else None,
                             source=source)
