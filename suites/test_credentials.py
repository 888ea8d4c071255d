"""Credentials: certificates, access keys, secrets and KMS keys against their environment's policy.

One item per component instance (`test_credentials[certs@acme-prod]`) for the credentials its
state manages, and one per account/region (`test_unmanaged_credentials[default/us-east-1]`) for
those no state manages. Critical, expired, overdue or rotation_disabled fails (as in `creds check`);
expiring warns;
a credential that could not be read is an error, never a pass.
"""

from harness.credentials.assertions import assert_credentials_ok


def test_credentials(component, instance_credentials):
    assert_credentials_ok(component.id, instance_credentials.rows, instance_credentials.notes)


def test_unmanaged_credentials(credential_scope, unmanaged_credentials):
    assert_credentials_ok(f"unmanaged in {credential_scope.id}", unmanaged_credentials.rows,
                          unmanaged_credentials.notes)
