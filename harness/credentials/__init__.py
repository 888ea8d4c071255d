"""Credentials: inventory per kind, policies per environment type, status, and safe rotation.

The public surface other parts use:

- `CredentialChecker` (`check.py`): `for_instance(instance)`, `unmanaged(scope)`, `report(instances)`;
  build one with `service.make_checker(config, pool, stack_set, redactor, as_of=..., state_of=...)`.
- `CredentialReport.to_json()`: `{"as_of", "credentials": [row...], "errors": [...]}`; each row is
  `CredentialRow.to_json()`, the shape of `drift.json`'s `credentials`.
- `rotation.select_targets / plan_rotations / run_rotations` with `service.rotation_context(...)`.
- `policy.parse_policy / policy_for`, `status.assess`, `linking.scopes_for`.

Every AWS write is in `writes.py` (it needs the write permission); nothing else here writes.
"""

from harness.credentials.check import CredentialChecker, CredentialReport, InstanceCredentials
from harness.credentials.model import KINDS, Assessment, Credential, CredentialRow, InventoryError, Scope
from harness.credentials.policy import CredentialPolicy, parse_policy, policy_for

__all__ = ["KINDS", "Assessment", "Credential", "CredentialChecker", "CredentialPolicy", "CredentialReport",
           "CredentialRow", "InstanceCredentials", "InventoryError", "Scope", "parse_policy", "policy_for"]
