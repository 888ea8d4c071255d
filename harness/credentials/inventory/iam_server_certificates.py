"""IAM server certificates, keyed by name; expiry parsed from the certificate body itself.

The API's `Expiration` can be missing or wrong (moto reports 2012 for every certificate and one
shared `ServerCertificateId`), so the body decides; the API value is kept in the details.
"""

from __future__ import annotations

import logging

from harness.aws.batching import paginate
from harness.aws.errors import AWS_ERRORS, describe_error
from harness.credentials.aws import Clients, account_of
from harness.credentials.certificates import CertificateError, parse_certificate
from harness.credentials.model import IAM_SERVER_CERTIFICATE, Credential, InventoryError, Scope, iso, utc

log = logging.getLogger(__name__)


def read(clients: Clients, scope: Scope, errors: list[InventoryError]) -> list[Credential]:
    """Every IAM server certificate of the account."""
    iam = clients("iam", None)
    found = []
    for meta in paginate(iam, "list_server_certificates", "ServerCertificateMetadataList"):
        name, arn = meta["ServerCertificateName"], meta.get("Arn")
        api_expiration = utc(meta.get("Expiration"))
        try:
            body = iam.get_server_certificate(ServerCertificateName=name)["ServerCertificate"]["CertificateBody"]
            info = parse_certificate(body, where=arn or name)
        except AWS_ERRORS as exc:
            errors.append(InventoryError(IAM_SERVER_CERTIFICATE, scope.id, describe_error(exc), credential=name))
            continue
        except CertificateError as exc:
            errors.append(InventoryError(IAM_SERVER_CERTIFICATE, scope.id,
                                         f"certificate body unreadable: {exc.what}", credential=name))
            continue
        if api_expiration and abs((api_expiration - info.not_after).total_seconds()) > 86400:
            log.debug("%s: API expiration %s disagrees with the certificate body (%s); using the body",
                      name, iso(api_expiration), iso(info.not_after))
        found.append(Credential(
            kind=IAM_SERVER_CERTIFICATE, id=name, arn=arn, name=name, account=account_of(arn), region=None,
            expires_at=info.not_after, changed_at=info.not_before,
            details={"path": meta.get("Path", "/"), "api_expiration": iso(api_expiration),
                     "domains": sorted(info.domains), "serial": info.serial_text,
                     "fingerprint": info.fingerprint, "uploaded_at": iso(utc(meta.get("UploadDate")))},
        ))
    return found
