"""Test helpers: certificates with chosen expiry dates, states in S3, instances, seeded accounts."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from harness.config import EnvironmentProfile, HarnessConfig
from harness.embedded import moto_api
from harness.stacks.model import ComponentInstance, StackSet

REGION = "us-east-1"
ACCOUNT = "123456789012"
STATE_BUCKET = "acme-tfstate"
PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'


@dataclass(frozen=True)
class Cert:
    cert_pem: str
    key_pem: str
    not_after: dt.datetime

    @property
    def bundle(self) -> str:
        return self.cert_pem + self.key_pem


def make_cert(days: float, cn: str = "app.example.com", sans: Iterable[str] = ("www.app.example.com",),
              *, issued_days_ago: float = 400, issuer_key: Any = None, issuer_name: x509.Name | None = None,
              ) -> Cert:
    """A self-signed (or issuer-signed) certificate whose NotAfter is `days` from now (negative: expired)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    not_after = now + dt.timedelta(days=days)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer_name or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(min(now - dt.timedelta(days=issued_days_ago), not_after - dt.timedelta(days=1)))
               .not_valid_after(not_after)
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in (cn, *sans)]), critical=False))
    cert = builder.sign(issuer_key or key, hashes.SHA256())
    return Cert(cert.public_bytes(serialization.Encoding.PEM).decode(),
                    key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()).decode(),
                    not_after)


def clients(endpoint: str, region: str = REGION):
    """A factory of boto3 clients on the moto endpoint (path-style S3)."""
    from botocore.config import Config

    def client(service: str, client_region: str | None = None):
        config = Config(s3={"addressing_style": "path"}) if service == "s3" else None
        return boto3.client(service, endpoint_url=endpoint, region_name=client_region or region, config=config)
    return client


def make_config(endpoint: str, tmp_path, *, profiles: Mapping[str, Mapping[str, Any]] | None = None,
                **changes: Any) -> HarnessConfig:
    """A HarnessConfig on the moto endpoint with profiles given as {type: {kind: policy}}."""
    built = {name: EnvironmentProfile(name=name, credentials=dict(policies))
             for name, policies in (profiles or {}).items()}
    return HarnessConfig(stacks_repo=tmp_path, aws_endpoint_url=endpoint, default_region=REGION,
                         report_dir=tmp_path / "reports", profiles=built, **changes)


def instance(component: str, stack: str, *, environment_type: str | None = "prod", region: str = REGION,
             bucket: str = STATE_BUCKET, account_id: str | None = None) -> ComponentInstance:
    """A deployable instance with an S3 backend."""
    key = f"{stack}/{component}/terraform.tfstate"
    return ComponentInstance(component=component, stack=stack, component_type="terraform",
                             terraform_component=component, vars={}, settings={}, env={}, backend_type="s3",
                             backend={"bucket": bucket, "key": key, "region": region}, metadata={}, providers={},
                             workspace=stack, state_key=key, stack_file=f"orgs/acme/{stack}",
                             environment_type=environment_type, region=region, account_id=account_id)


def stack_set(*instances: ComponentInstance) -> StackSet:
    return StackSet(repo="/tmp/repo", instances=tuple(instances))


def write_state(s3, inst: ComponentInstance, resources: Iterable[tuple[str, str, Mapping[str, Any]]]) -> None:
    """Put a v4 state with managed resources [(type, name, attributes)] at the instance's backend key."""
    state = {"version": 4, "terraform_version": "1.11.0", "serial": 1, "lineage": "test", "outputs": {},
             "resources": [{"mode": "managed", "type": t, "name": n, "provider": PROVIDER,
                            "instances": [{"schema_version": 0, "attributes": dict(a)}]} for t, n, a in resources]}
    s3.put_object(Bucket=inst.state_bucket, Key=inst.state_key, Body=json.dumps(state).encode())


def create_bucket(s3, name: str = STATE_BUCKET) -> None:
    s3.create_bucket(Bucket=name)


def create_rotation_function(endpoint: str, name: str = "rotate-db") -> str:
    """A Lambda function moto can invoke without Docker (a rotation function for RotateSecret)."""
    moto_api(endpoint, "config", {"lambda": {"use_docker": False}})
    make = clients(endpoint)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return {}\n")
    iam = make("iam")
    try:
        role = iam.get_role(RoleName="rotation-role")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        role = iam.create_role(RoleName="rotation-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return make("lambda").create_function(FunctionName=name, Runtime="python3.11", Role=role,
                                          Handler="index.handler", Code={"ZipFile": buffer.getvalue()})["FunctionArn"]


def days_from_now(days: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(days=days)


class Rotations:
    """Drives check -> select -> plan/run the way `stackharness creds rotate` does, at a chosen time."""

    def __init__(self, config: HarnessConfig, stack: StackSet) -> None:
        from harness.aws.session import SessionPool
        from harness.log import Redactor

        self.config, self.stack_set = config, stack
        self.pool = SessionPool(config)
        self.redactor = Redactor()

    def context(self, now: dt.datetime | None = None):
        from harness.credentials.aws import pool_clients
        from harness.credentials.service import rotation_context, rotation_writes

        return rotation_context(self.config, pool_clients(self.pool), self.redactor, now=now,
                                permit_writes=rotation_writes(self.pool))

    def report(self, now: dt.datetime | None = None):
        from harness.credentials.service import make_checker

        return make_checker(self.config, self.pool, self.stack_set, self.redactor, as_of=now).report()

    def targets(self, ctx, **select):
        from harness.credentials.rotation import select_targets

        return select_targets(self.report(ctx.now), self.stack_set, self.config, ctx, **select)

    def plan(self, now: dt.datetime | None = None, **select):
        from harness.credentials.rotation import plan_rotations

        ctx = self.context(now)
        return plan_rotations(self.targets(ctx, **select), ctx)

    def run(self, now: dt.datetime | None = None, max_steps: int | None = None, **select):
        from harness.credentials.rotation import run_rotations

        ctx = self.context(now)
        return run_rotations(self.targets(ctx, **select), ctx, max_steps=max_steps)

    @property
    def audit_lines(self) -> list[dict]:
        path = self.config.report_dir / "rotation-audit.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


ATMOS_YAML = """\
base_path: "."
components:
  terraform:
    base_path: "components/terraform"
stacks:
  base_path: "stacks"
  included_paths: ["orgs/**/*"]
  excluded_paths: ["**/_defaults.yaml"]
  name_pattern: "{namespace}-{stage}"
"""
DEFAULTS_YAML = """\
vars:
  namespace: acme
terraform:
  backend_type: s3
  backend:
    s3:
      bucket: acme-tfstate
      key: terraform.tfstate
      region: us-east-1
settings:
  stackharness:
    region: us-east-1
"""


def write_repo(root, stacks: Mapping[str, tuple[str, Iterable[str]]], *, extra_config: str = "") -> None:
    """An Atmos repo: stacks {stage: (environment_type, components)} sharing the acme-tfstate backend."""
    (root / "atmos.yaml").write_text(ATMOS_YAML)
    base = root / "stacks" / "orgs" / "acme"
    base.mkdir(parents=True)
    (base / "_defaults.yaml").write_text(DEFAULTS_YAML)
    for stage, (env_type, components) in stacks.items():
        lines = ["import:", "  - orgs/acme/_defaults", "vars:", f"  stage: {stage}", "settings:", "  stackharness:",
                 f"    environment_type: {env_type}", "components:", "  terraform:"]
        for component in components:
            (root / "components" / "terraform" / component).mkdir(parents=True, exist_ok=True)
            (root / "components" / "terraform" / component / "main.tf").write_text("")
            lines.append(f"    {component}: {{}}")
        (base / f"{stage}.yaml").write_text("\n".join(lines) + "\n")
    if extra_config:
        (root / "stackharness.yaml").write_text(extra_config)


def undeclared_writes(audit_lines: list[dict]) -> set[str]:
    """Audited actions that are not in WRITE_OPERATIONS (the write permission's scope)."""
    from harness.credentials.writes import WRITE_OPERATIONS

    declared = {op.split(".")[1].lower() for op in WRITE_OPERATIONS}
    return {e["action"] for e in audit_lines if e["action"].split(".")[1].replace("_", "") not in declared}
