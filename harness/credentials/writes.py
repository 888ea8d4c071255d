"""Every AWS write the credential rotation makes, in one place.

NEEDS THE WRITE PERMISSION: each call here changes AWS (IAM, Secrets Manager, SSM, ACM, ELB,
S3 rotation records). Behind the AWS access layer's read-only guard these must run inside its
explicit, scoped write permission; nothing else in `harness.credentials` writes. Every call is
logged, redacted, to the rotation audit file before its result is used, whether it worked or not.
Secret values handed over here are registered with the redactor before the call is made.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from harness.aws.errors import describe_error
from harness.credentials.audit import AuditLog
from harness.credentials.aws import Clients
from harness.credentials.certificates import CertificateBundle
from harness.log import Redactor

T = TypeVar("T")

# Every AWS operation this module calls: the scope of the write permission rotation needs.
WRITE_OPERATIONS = frozenset({
    "iam.CreateAccessKey", "iam.UpdateAccessKey", "iam.DeleteAccessKey",
    "iam.UploadServerCertificate", "iam.DeleteServerCertificate",
    "secretsmanager.PutSecretValue", "secretsmanager.RotateSecret", "ssm.PutParameter",
    "acm.ImportCertificate",
    "elbv2.ModifyListener", "elbv2.AddListenerCertificates", "elbv2.RemoveListenerCertificates",
    "elb.SetLoadBalancerListenerSSLCertificate",
    "s3.PutObject",
})


@dataclass(frozen=True)
class NewAccessKey:
    """A freshly created access key. The secret lives in memory for this run only."""

    key_id: str
    secret: str

    def __repr__(self) -> str:
        return f"NewAccessKey(key_id={self.key_id!r}, secret=[redacted])"


@dataclass(frozen=True)
class ListenerRef:
    """A load balancer listener using a certificate (ELBv2 listener ARN, or classic ELB name and port)."""

    service: str                 # "elbv2" or "elb"
    region: str
    listener: str                # listener ARN, or the classic load balancer's name
    port: int | None = None      # classic ELB listener port
    default: bool = True         # ELBv2: the listener's default certificate (else an additional one)

    def describe(self) -> str:
        return f"{self.listener}:{self.port}" if self.port is not None else self.listener


class CredentialWriter:
    """The AWS writes of credential rotation, each audited."""

    def __init__(self, clients: Clients, audit: AuditLog, redactor: Redactor, run_id: str) -> None:
        self._clients = clients
        self._audit = audit
        self._redactor = redactor
        self.run_id = run_id

    def _call(self, action: str, target: str, call: Callable[[], T], **details: Any) -> T:
        entry = {"run": self.run_id, "action": action, "target": target, **details}
        try:
            result = call()
        except Exception as exc:
            self._audit.append({**entry, "outcome": "failed", "error": describe_error(exc)})
            raise
        self._audit.append({**entry, "outcome": "ok"})
        return result

    # -- IAM access keys -------------------------------------------------------------------------
    def create_access_key(self, user: str) -> NewAccessKey:
        """Create a key for `user`; its secret is registered with the redactor at once."""
        def call() -> NewAccessKey:
            key = self._clients("iam", None).create_access_key(UserName=user)["AccessKey"]
            self._redactor.register(key["SecretAccessKey"])
            return NewAccessKey(key["AccessKeyId"], key["SecretAccessKey"])
        return self._call("iam.create_access_key", user, call)

    def set_access_key_status(self, user: str, key_id: str, status: str) -> None:
        """Activate or deactivate a key (`Active` / `Inactive`)."""
        self._call("iam.update_access_key", f"{user}/{key_id}", lambda: self._clients("iam", None).update_access_key(
            UserName=user, AccessKeyId=key_id, Status=status), status=status)

    def delete_access_key(self, user: str, key_id: str) -> None:
        """Delete a key."""
        self._call("iam.delete_access_key", f"{user}/{key_id}", lambda: self._clients("iam", None).delete_access_key(
            UserName=user, AccessKeyId=key_id))

    def put_sink_value(self, sink_type: str, name: str, region: str | None, value: Mapping[str, str]) -> None:
        """Hand a new key to its sink: a new version of an existing secret, or an SSM SecureString."""
        text = json.dumps(dict(value), sort_keys=True)
        self._redactor.register(text)
        self._redactor.register(value.get("SecretAccessKey", ""))
        if sink_type == "secretsmanager":
            self._call("secretsmanager.put_secret_value", name, lambda: self._clients(
                "secretsmanager", region).put_secret_value(SecretId=name, SecretString=text))
        else:
            self._call("ssm.put_parameter", name, lambda: self._clients("ssm", region).put_parameter(
                Name=name, Value=text, Type="SecureString", Overwrite=True))

    # -- Secrets Manager -------------------------------------------------------------------------
    def rotate_secret(self, arn: str, region: str | None, function_arn: str) -> str:
        """Start the secret's rotation function now; returns the new version id."""
        # The function is passed explicitly: some implementations forget it when it is omitted.
        return self._call("secretsmanager.rotate_secret", arn, lambda: self._clients(
            "secretsmanager", region).rotate_secret(SecretId=arn, RotationLambdaARN=function_arn).get("VersionId", ""))

    # -- certificates ----------------------------------------------------------------------------
    def import_certificate(self, arn: str, region: str | None, bundle: CertificateBundle) -> None:
        """Re-import a replacement into an existing ACM certificate (same ARN, consumers untouched)."""
        params: dict[str, Any] = {"CertificateArn": arn, "Certificate": bundle.certificate.pem.encode(),
                                  "PrivateKey": bundle.private_key_pem.encode()}
        if bundle.chain_pem:
            params["CertificateChain"] = bundle.chain_pem.encode()
        self._call("acm.import_certificate", arn, lambda: self._clients("acm", region).import_certificate(**params),
                   serial=bundle.certificate.serial_text)

    def upload_server_certificate(self, name: str, path: str, bundle: CertificateBundle) -> str:
        """Upload a replacement IAM server certificate under a new name; returns its ARN."""
        params: dict[str, Any] = {"ServerCertificateName": name, "Path": path,
                                  "CertificateBody": bundle.certificate.pem, "PrivateKey": bundle.private_key_pem}
        if bundle.chain_pem:
            params["CertificateChain"] = bundle.chain_pem
        return self._call("iam.upload_server_certificate", name, lambda: self._clients("iam", None)
                          .upload_server_certificate(**params)["ServerCertificateMetadata"]["Arn"],
                          serial=bundle.certificate.serial_text)

    def delete_server_certificate(self, name: str) -> None:
        """Delete an IAM server certificate."""
        self._call("iam.delete_server_certificate", name, lambda: self._clients("iam", None)
                   .delete_server_certificate(ServerCertificateName=name))

    def switch_listener(self, ref: ListenerRef, old_arn: str, new_arn: str) -> None:
        """Point one listener from the old certificate to the new one (new one added before the old goes)."""
        client = self._clients(ref.service, ref.region)
        target, details = ref.describe(), {"old": old_arn, "new": new_arn}
        if ref.service == "elb":
            self._call("elb.set_load_balancer_listener_ssl_certificate", target,
                       lambda: client.set_load_balancer_listener_ssl_certificate(
                           LoadBalancerName=ref.listener, LoadBalancerPort=ref.port, SSLCertificateId=new_arn),
                       **details)
        elif ref.default:
            self._call("elbv2.modify_listener", target, lambda: client.modify_listener(
                ListenerArn=ref.listener, Certificates=[{"CertificateArn": new_arn}]), **details)
        else:
            self._call("elbv2.add_listener_certificates", target, lambda: client.add_listener_certificates(
                ListenerArn=ref.listener, Certificates=[{"CertificateArn": new_arn}]), **details)
            self._call("elbv2.remove_listener_certificates", target, lambda: client.remove_listener_certificates(
                ListenerArn=ref.listener, Certificates=[{"CertificateArn": old_arn}]), **details)

    # -- rotation records ------------------------------------------------------------------------
    def put_record(self, bucket: str, key: str, region: str | None, body: bytes, etag: str | None) -> str:
        """Write a rotation record only if nobody changed it since we read it (S3 conditional write)."""
        condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
        return self._call("s3.put_object", f"s3://{bucket}/{key}", lambda: self._clients("s3", region).put_object(
            Bucket=bucket, Key=key, Body=body, ContentType="application/json", **condition)["ETag"])
