"""IAM access key rotation, two-phase: the user always keeps at least one active key.

    started --create key--> created --hand to sink--> delivered --deactivate old--> deactivated
            --(a later run, after grace_days) delete old--> completed

Before a key is created (when planning, and again at `started`) the sink must be able to take it:
a missing Secrets Manager secret refuses the rotation rather than leave the user with two keys.
The new key's secret exists only in the memory of the run that created it. A run resuming at
`created` therefore checks the sink: if it already holds the new key, delivery happened; if not,
the undelivered key (whose secret is gone) is deleted and the machine goes back to `started`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.aws.batching import paginate
from harness.credentials.model import IAM_ACCESS_KEY, iso
from harness.credentials.records import COMPLETED, STARTED, RotationRecord
from harness.credentials.rotation.engine import Advance, RotationContext, RotationRefused, RotationTarget, Wait
from harness.credentials.rotation.timing import grace_over
from harness.credentials.sinks import sink_key_id, sink_problem

CREATED, DELIVERED, DEACTIVATED = "created", "delivered", "deactivated"


class AccessKeyRotator:
    kind = IAM_ACCESS_KEY
    states = (STARTED, CREATED, DELIVERED, DEACTIVATED, COMPLETED)

    def preflight(self, target: RotationTarget, ctx: RotationContext) -> Mapping[str, Any]:
        c, policy = target.credential, target.policy
        user = c.name or ""
        if not c.active:
            raise RotationRefused(f"{c.id} of {user} is inactive: nothing to rotate",
                                  hint="delete it if nothing needs it")
        if policy.sink is None:
            raise RotationRefused(
                f"no sink for new access keys in profile {policy.profile!r}: the new key would have nowhere to go",
                hint=f"add sink: {{type: secretsmanager, name: \"iam/{{user}}/access-key\"}} (or type: ssm) under "
                     f"profiles.{policy.profile}.credentials.iam_access_key")
        others = [k for k in self._keys(ctx, user) if k["AccessKeyId"] != c.id]
        if others:
            raise RotationRefused(
                f"{user} already has two access keys ({c.id}, {others[0]['AccessKeyId']}): IAM allows two and the "
                "rotation needs room for the new one",
                hint=f"delete the unused one (aws iam delete-access-key --user-name {user} --access-key-id "
                     f"{others[0]['AccessKeyId']}) and re-run")
        sink = policy.sink
        data = {"user": user, "old_key_id": c.id, "new_key_id": None, "sink_type": sink.type,
                "sink_name": sink.resolve(user), "sink_region": sink.region or c.region,
                "grace_days": policy.grace_days}
        self._check_sink(ctx, data)
        return data

    def steps(self, target: RotationTarget, data: Mapping[str, Any]) -> list[str]:
        user, old = data.get("user") or target.credential.name, data.get("old_key_id") or target.credential.id
        sink = f"{data.get('sink_type')}:{data.get('sink_name')}"
        grace = data.get("grace_days", target.policy.grace_days)
        return [f"create a new access key for {user}", f"store it in {sink}", f"deactivate {old}",
                f"delete {old} after {grace} day(s), on a later run"]

    def advance(self, target: RotationTarget, record: RotationRecord, ctx: RotationContext) -> Advance | Wait:
        d = record.data
        user, old, new = d["user"], d["old_key_id"], d.get("new_key_id")
        step = {STARTED: self._create, CREATED: self._deliver, DELIVERED: self._deactivate,
                DEACTIVATED: self._delete_old}[record.state]
        return step(record, ctx, user, old, new)

    # -- steps -----------------------------------------------------------------------------------
    def _create(self, record: RotationRecord, ctx: RotationContext, user: str, old: str, new: str | None) -> Advance:
        others = [k["AccessKeyId"] for k in self._keys(ctx, user) if k["AccessKeyId"] != old]
        if others:
            raise RotationRefused(
                f"{user} has a key this rotation did not record ({others[0]}); it cannot create another",
                hint=f"if {others[0]} is an undelivered key left by a stopped run, delete it "
                     f"(aws iam delete-access-key --user-name {user} --access-key-id {others[0]}) and re-run")
        self._check_sink(ctx, record.data)       # the sink may have gone since the rotation started
        key = ctx.writer.create_access_key(user)
        ctx.new_keys[key.key_id] = key
        return Advance(record.advanced(CREATED, now=ctx.now, run_id=ctx.run_id, note=f"created {key.key_id}",
                                       new_key_id=key.key_id),
                       undo=lambda: ctx.writer.delete_access_key(user, key.key_id))

    def _deliver(self, record: RotationRecord, ctx: RotationContext, user: str, old: str, new: str) -> Advance:
        d = record.data
        key = ctx.new_keys.get(new)
        if key is not None:
            ctx.writer.put_sink_value(d["sink_type"], d["sink_name"], d.get("sink_region"),
                                      {"AccessKeyId": key.key_id, "SecretAccessKey": key.secret, "UserName": user})
            return Advance(record.advanced(DELIVERED, now=ctx.now, run_id=ctx.run_id,
                                           note=f"stored {new} in {d['sink_type']}:{d['sink_name']}"))
        held = sink_key_id(ctx.clients, d["sink_type"], d["sink_name"], d.get("sink_region"), ctx.redactor)
        if held == new:
            return Advance(record.advanced(DELIVERED, now=ctx.now, run_id=ctx.run_id,
                                           note=f"the sink already holds {new}"))
        if any(k["AccessKeyId"] == new for k in self._keys(ctx, user)):
            ctx.writer.delete_access_key(user, new)
        return Advance(record.advanced(STARTED, now=ctx.now, run_id=ctx.run_id, new_key_id=None,
                                       note=f"{new} never reached the sink and its secret went with the run that "
                                            "created it; deleted it to create another"))

    def _deactivate(self, record: RotationRecord, ctx: RotationContext, user: str, old: str, new: str) -> Advance:
        keys = {k["AccessKeyId"]: k for k in self._keys(ctx, user)}
        if keys.get(new, {}).get("Status") != "Active":
            raise RotationRefused(f"the new key {new} of {user} is not active: {old} stays active",
                                  hint="check the user's keys; re-run once the new key is active")
        if keys.get(old, {}).get("Status") == "Active":
            ctx.writer.set_access_key_status(user, old, "Inactive")
        return Advance(record.advanced(DEACTIVATED, now=ctx.now, run_id=ctx.run_id, note=f"deactivated {old}",
                                       deactivated_at=iso(ctx.now), deactivated_run=ctx.run_id))

    def _delete_old(self, record: RotationRecord, ctx: RotationContext, user: str, old: str, new: str
                    ) -> Advance | Wait:
        d = record.data
        wait = grace_over(d.get("deactivated_at"), d.get("deactivated_run"), int(d.get("grace_days", 7)), ctx)
        if wait is not None:
            return Wait(f"{old} is inactive; {wait}")
        keys = {k["AccessKeyId"]: k for k in self._keys(ctx, user)}
        if old in keys:
            if keys[old].get("Status") == "Active":
                raise RotationRefused(f"{old} of {user} was activated again after the rotation deactivated it: "
                                      "something still needs it, so it is not deleted",
                                      hint=f"move that user to {new}, deactivate {old}, and re-run")
            if keys.get(new, {}).get("Status") != "Active":
                raise RotationRefused(f"the new key {new} of {user} is not active: {old} is not deleted",
                                      hint="activate the new key (or restart the rotation) and re-run")
            ctx.writer.delete_access_key(user, old)
            note = f"deleted {old}; {new} is the only key"
        else:
            note = f"{old} was already deleted; {new} is the only key"
        return Advance(record.advanced(COMPLETED, now=ctx.now, run_id=ctx.run_id, note=note))

    @staticmethod
    def _check_sink(ctx: RotationContext, data: Mapping[str, Any]) -> None:
        """Refuse before a key is created when the sink could not take it (two active keys otherwise)."""
        problem = sink_problem(ctx.clients, data["sink_type"], data["sink_name"], data.get("sink_region"))
        if problem is not None:
            raise RotationRefused(f"{problem}: no new key is created for {data['user']}",
                                  hint=f"the key is stored as a new version of that secret: create it (aws "
                                       f"secretsmanager create-secret --name {data['sink_name']} --secret-string "
                                       "'{}'), restore it or allow secretsmanager:DescribeSecret on it, and re-run")

    @staticmethod
    def _keys(ctx: RotationContext, user: str) -> list[dict[str, Any]]:
        return list(paginate(ctx.clients("iam", None), "list_access_keys", "AccessKeyMetadata", UserName=user))

