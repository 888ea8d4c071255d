"""ACM certificates (imported and issued): NotAfter, type, status, renewal eligibility, in use by."""

from __future__ import annotations

from harness.aws.batching import paginate
from harness.aws.errors import AWS_ERRORS, describe_error
from harness.credentials.aws import Clients, account_of
from harness.credentials.model import ACM_CERTIFICATE, Credential, InventoryError, Scope, utc

# ListCertificates returns only RSA_2048 certificates unless asked for every key type.
KEY_TYPES = ["RSA_1024", "RSA_2048", "RSA_3072", "RSA_4096", "EC_prime256v1", "EC_secp384r1", "EC_secp521r1"]


def read(clients: Clients, scope: Scope, errors: list[InventoryError]) -> list[Credential]:
    """Every ACM certificate in the scope's region, described one by one for the details."""
    acm = clients("acm", scope.region)
    found = []
    for summary in paginate(acm, "list_certificates", "CertificateSummaryList", Includes={"keyTypes": KEY_TYPES}):
        arn = summary["CertificateArn"]
        try:
            cert = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        except AWS_ERRORS as exc:
            errors.append(InventoryError(ACM_CERTIFICATE, scope.id, describe_error(exc), credential=arn))
            continue
        changed = cert.get("ImportedAt") or cert.get("IssuedAt") or cert.get("CreatedAt")
        found.append(Credential(
            kind=ACM_CERTIFICATE, id=arn, arn=arn, name=cert.get("DomainName"), account=account_of(arn),
            region=scope.region, expires_at=utc(cert.get("NotAfter")), changed_at=utc(changed),
            details={"type": cert.get("Type"), "status": cert.get("Status"),
                     "renewal_eligibility": cert.get("RenewalEligibility"),
                     "in_use_by": list(cert.get("InUseBy") or []),
                     "domains": sorted({cert.get("DomainName"), *(cert.get("SubjectAlternativeNames") or [])} - {None}),
                     "serial": cert.get("Serial")},
        ))
    return found
