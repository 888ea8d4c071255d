"""ACM imported certificate rotation: re-import the replacement into the same ARN.

    started --ImportCertificate (same ARN)--> completed

Consumers keep the ARN, so nothing else changes. ACM-issued certificates renew themselves and
are refused. A re-run at `started` first checks whether the live certificate already is the
replacement (the import happened but was not recorded).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.credentials.certificates import parse_certificate
from harness.credentials.model import ACM_CERTIFICATE
from harness.credentials.records import COMPLETED, STARTED, RotationRecord
from harness.credentials.rotation.engine import Advance, RotationContext, RotationRefused, RotationTarget
from harness.credentials.rotation.replacement import load_replacement, replacement_data


class AcmRotator:
    kind = ACM_CERTIFICATE
    states = (STARTED, COMPLETED)

    def preflight(self, target: RotationTarget, ctx: RotationContext) -> Mapping[str, Any]:
        c = target.credential
        if c.details.get("type") != "IMPORTED":
            raise RotationRefused(f"{c.name} is issued by ACM ({c.details.get('type')}), which renews it itself "
                                  f"(renewal eligibility: {c.details.get('renewal_eligibility')})",
                                  hint="check its validation records if the renewal is stuck")
        return replacement_data(load_replacement(c, ctx))

    def steps(self, target: RotationTarget, data: Mapping[str, Any]) -> list[str]:
        return [f"re-import the certificate from {data.get('source')} into {target.credential.id} "
                f"(valid until {data.get('replacement_not_after')})"]

    def advance(self, target: RotationTarget, record: RotationRecord, ctx: RotationContext) -> Advance:
        arn, region = record.credential_id, target.credential.region
        body = ctx.clients("acm", region).get_certificate(CertificateArn=arn)["Certificate"]
        live = parse_certificate(body, where=arn)
        if live.fingerprint == record.data["replacement_fingerprint"]:
            return Advance(record.advanced(COMPLETED, now=ctx.now, run_id=ctx.run_id,
                                           note="the replacement was already imported"))
        bundle = load_replacement(target.credential, ctx, source=record.data["source"])
        ctx.writer.import_certificate(arn, region, bundle)
        return Advance(record.advanced(COMPLETED, now=ctx.now, run_id=ctx.run_id,
                                       note=f"imported the replacement (valid until "
                                            f"{record.data['replacement_not_after']})", **replacement_data(bundle)))
