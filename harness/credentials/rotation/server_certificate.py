"""IAM server certificate rotation: upload the replacement under a new name, then switch its users.

    started --upload as <name>-<UTC timestamp>--> uploaded --switch listeners--> switched
            --(a later run, after grace_days) delete the old certificate--> completed

The new name is chosen and recorded before the upload, so a re-run finds an upload that happened
but was not recorded. Load balancer listeners (ELBv2 and classic) using the old certificate are
switched to the new one; the old certificate is deleted only when none uses it any more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness.aws.errors import AWS_ERRORS, error_code
from harness.credentials.certificates import parse_certificate
from harness.credentials.consumers import listeners_using
from harness.credentials.model import IAM_SERVER_CERTIFICATE, iso
from harness.credentials.records import COMPLETED, STARTED, RotationRecord
from harness.credentials.rotation.engine import Advance, RotationContext, RotationRefused, RotationTarget, Wait
from harness.credentials.rotation.replacement import load_replacement, replacement_data
from harness.credentials.rotation.timing import grace_over

UPLOADED, SWITCHED = "uploaded", "switched"
_STAMP = re.compile(r"-\d{14}$")
MAX_NAME = 128


def replacement_name(name: str, ctx: RotationContext) -> str:
    """`web-cert` -> `web-cert-20270105021500` (an earlier rotation's stamp is replaced, not stacked)."""
    stamp = ctx.now.strftime("%Y%m%d%H%M%S")
    base = _STAMP.sub("", name)[: MAX_NAME - len(stamp) - 1]
    return f"{base}-{stamp}"


class ServerCertificateRotator:
    kind = IAM_SERVER_CERTIFICATE
    states = (STARTED, UPLOADED, SWITCHED, COMPLETED)

    def preflight(self, target: RotationTarget, ctx: RotationContext) -> Mapping[str, Any]:
        c = target.credential
        bundle = load_replacement(c, ctx)
        return {"old_name": c.id, "old_arn": c.arn, "new_name": replacement_name(c.id, ctx), "new_arn": None,
                "path": c.details.get("path", "/"), "grace_days": target.policy.grace_days,
                "regions": sorted(target.regions), **replacement_data(bundle)}

    def steps(self, target: RotationTarget, data: Mapping[str, Any]) -> list[str]:
        regions = ", ".join(data.get("regions") or target.regions) or "no region"
        return [f"upload the certificate from {data.get('source')} as {data.get('new_name')}",
                f"switch load balancer listeners using {data.get('old_name')} to it ({regions})",
                f"delete {data.get('old_name')} after {data.get('grace_days')} day(s), on a later run"]

    def advance(self, target: RotationTarget, record: RotationRecord, ctx: RotationContext) -> Advance | Wait:
        step = {STARTED: self._upload, UPLOADED: self._switch, SWITCHED: self._delete_old}[record.state]
        return step(target, record, ctx)

    def _upload(self, target: RotationTarget, record: RotationRecord, ctx: RotationContext) -> Advance:
        d = record.data
        existing = self._body(ctx, d["new_name"])
        if existing is not None:
            if parse_certificate(existing[1]).fingerprint != d["replacement_fingerprint"]:
                raise RotationRefused(f"another certificate already has the name {d['new_name']}",
                                      hint="delete or rename it, or restart the rotation by deleting its record")
            return Advance(record.advanced(UPLOADED, now=ctx.now, run_id=ctx.run_id, new_arn=existing[0],
                                           note=f"{d['new_name']} was already uploaded"))
        bundle = load_replacement(target.credential, ctx, source=d["source"])
        if bundle.certificate.fingerprint != d["replacement_fingerprint"]:
            raise RotationRefused(f"the certificate in {d['source']} changed since this rotation started",
                                  hint="restart the rotation (delete its record) to use the new one")
        arn = ctx.writer.upload_server_certificate(d["new_name"], d.get("path") or "/", bundle)
        return Advance(record.advanced(UPLOADED, now=ctx.now, run_id=ctx.run_id, new_arn=arn,
                                       note=f"uploaded {d['new_name']}"))

    def _switch(self, target: RotationTarget, record: RotationRecord, ctx: RotationContext) -> Advance:
        d = record.data
        if self._body(ctx, d["new_name"]) is None:
            return Advance(record.advanced(STARTED, now=ctx.now, run_id=ctx.run_id, new_arn=None,
                                           note=f"{d['new_name']} is gone; uploading it again"))
        switched = self._switch_all(ctx, d)
        return Advance(record.advanced(SWITCHED, now=ctx.now, run_id=ctx.run_id, switched_at=iso(ctx.now),
                                       switched_run=ctx.run_id, listeners=switched,
                                       note=f"switched {len(switched)} listener(s) to {d['new_name']}"))

    def _delete_old(self, target: RotationTarget, record: RotationRecord, ctx: RotationContext) -> Advance | Wait:
        d = record.data
        wait = grace_over(d.get("switched_at"), d.get("switched_run"), int(d.get("grace_days", 7)), ctx)
        if wait is not None:
            return Wait(f"{d['old_name']} is no longer used by the switched listeners; {wait}")
        late = self._switch_all(ctx, d)   # listeners that took up the old certificate since
        if self._body(ctx, d["old_name"]) is not None:
            ctx.writer.delete_server_certificate(d["old_name"])
            note = f"deleted {d['old_name']}"
        else:
            note = f"{d['old_name']} was already deleted"
        if late:
            note += f" after switching {len(late)} more listener(s)"
        return Advance(record.advanced(COMPLETED, now=ctx.now, run_id=ctx.run_id, note=note))

    @staticmethod
    def _switch_all(ctx: RotationContext, d: Mapping[str, Any]) -> list[str]:
        done = []
        for ref in listeners_using(ctx.clients, d.get("regions") or (), d["old_arn"]):
            ctx.writer.switch_listener(ref, d["old_arn"], d["new_arn"])
            done.append(ref.describe())
        return done

    @staticmethod
    def _body(ctx: RotationContext, name: str) -> tuple[str, str] | None:
        """(ARN, body) of a server certificate, or None when there is none by that name."""
        try:
            cert = ctx.clients("iam", None).get_server_certificate(ServerCertificateName=name)["ServerCertificate"]
        except AWS_ERRORS as exc:
            if error_code(exc) in ("NoSuchEntity", "NoSuchEntityException"):
                return None
            raise
        return cert["ServerCertificateMetadata"]["Arn"], cert["CertificateBody"]
