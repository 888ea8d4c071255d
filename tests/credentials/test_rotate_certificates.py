"""Certificate rotation on moto: ACM re-import and IAM server certificate upload-then-switch."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from harness.credentials.certificates import parse_certificate
from tests.credentials.helpers import (
    REGION,
    Rotations,
    create_bucket,
    days_from_now,
    instance,
    make_cert,
    make_config,
    stack_set,
    undeclared_writes,
    write_state,
)

DOMAIN = "shop.example.com"


def close(a: dt.datetime, b: dt.datetime) -> bool:
    return abs((a - b).total_seconds()) < 5


@pytest.fixture
def acm_world(moto, aws, tmp_path):
    create_bucket(aws("s3"))
    current = make_cert(5, cn=DOMAIN, sans=(f"www.{DOMAIN}",))
    arn = aws("acm").import_certificate(Certificate=current.cert_pem.encode(),
                                        PrivateKey=current.key_pem.encode())["CertificateArn"]
    inst = instance("tls", "acme-prod")
    write_state(aws("s3"), inst, [("aws_acm_certificate", "shop", {"id": arn, "arn": arn})])

    def rotations(source: str) -> Rotations:
        config = make_config(moto, tmp_path, certificate_sources={DOMAIN: source})
        return Rotations(config, stack_set(inst))
    return arn, current, rotations


def write_bundle(tmp_path, name: str, *parts: str) -> str:
    path = tmp_path / name
    path.write_text("".join(parts))
    return name      # relative: resolved against the stacks repo (tmp_path)


def not_after(aws, arn) -> dt.datetime:
    return aws("acm").describe_certificate(CertificateArn=arn)["Certificate"]["NotAfter"].astimezone(dt.UTC)


def test_acm_reimport_keeps_the_arn(aws, tmp_path, acm_world):
    arn, _, rotations = acm_world
    renewed = make_cert(400, cn=DOMAIN, sans=(f"www.{DOMAIN}",))
    rot = rotations(write_bundle(tmp_path, "shop.pem", renewed.cert_pem, renewed.key_pem))
    [item] = rot.plan(due=True)
    assert (item.action, item.id, item.status) == ("start", arn, "critical")
    assert item.steps[0].startswith(f"re-import the certificate from shop.pem into {arn}")
    [outcome] = rot.run(due=True)
    assert outcome.result == "completed"
    assert close(not_after(aws, arn), renewed.not_after)
    assert [(e["action"], e["target"], e["outcome"]) for e in rot.audit_lines if e["action"].startswith("acm")] == [
        ("acm.import_certificate", arn, "ok")]
    assert rot.plan(due=True) == []          # renewed: nothing due any more


def test_acm_source_in_s3(aws, tmp_path, acm_world):
    arn, _, rotations = acm_world
    renewed = make_cert(200, cn=DOMAIN, sans=(f"www.{DOMAIN}",))
    aws("s3").put_object(Bucket="acme-tfstate", Key="certs/shop.pem",
                         Body=(renewed.cert_pem + renewed.key_pem).encode())
    [outcome] = rotations("s3://acme-tfstate/certs/shop.pem").run(credential_id=arn)
    assert outcome.result == "completed" and close(not_after(aws, arn), renewed.not_after)


@pytest.mark.parametrize(("days", "cn", "sans", "message"), [
    (3, DOMAIN, (f"www.{DOMAIN}",), "sooner than the current certificate"),
    (400, DOMAIN, (), f"missing www.{DOMAIN}"),
    (400, DOMAIN, (f"www.{DOMAIN}", "evil.example.com"), "adds evil.example.com"),
    (-1, DOMAIN, (f"www.{DOMAIN}",), "expired at"),
])
def test_acm_refuses_a_bad_replacement(aws, tmp_path, acm_world, days, cn, sans, message):
    arn, current, rotations = acm_world
    bad = make_cert(days, cn=cn, sans=sans)
    [outcome] = rotations(write_bundle(tmp_path, "bad.pem", bad.cert_pem, bad.key_pem)).run(credential_id=arn)
    assert outcome.result == "refused" and message in outcome.message
    assert close(not_after(aws, arn), current.not_after)


def test_acm_refuses_a_key_that_does_not_match(aws, tmp_path, acm_world):
    arn, _, rotations = acm_world
    one, other = make_cert(400, cn=DOMAIN, sans=(f"www.{DOMAIN}",)), make_cert(400, cn=DOMAIN)
    [outcome] = rotations(write_bundle(tmp_path, "mixed.pem", one.cert_pem, other.key_pem)).run(credential_id=arn)
    assert outcome.result == "refused" and "does not belong to any certificate" in outcome.message


def test_acm_without_source_and_acm_issued_are_refused(aws, tmp_path, acm_world):
    arn, _, rotations = acm_world
    rot = rotations("elsewhere.pem")
    rot.config = rot.config.with_overrides(certificate_sources={})
    [outcome] = rot.run(credential_id=arn)
    assert outcome.result == "refused" and "no certificate source" in outcome.message
    issued = aws("acm").request_certificate(DomainName="issued.example.com")["CertificateArn"]
    [outcome] = rot.run(credential_id=issued)
    assert outcome.result == "refused" and "renews it itself" in outcome.message


def test_acm_import_failing_midway_leaves_the_old_certificate_and_resumes(aws, tmp_path, acm_world):
    """ACM rejects the replacement at the import (it is not in effect until tomorrow): nothing changes."""
    arn, current, rotations = acm_world
    early = make_cert(400, cn=DOMAIN, sans=(f"www.{DOMAIN}",), issued_days_ago=-1)
    rot = rotations(write_bundle(tmp_path, "shop.pem", early.cert_pem, early.key_pem))
    [failed] = rot.run(credential_id=arn)
    assert (failed.result, failed.state) == ("failed", "started") and "not in effect yet" in failed.message
    assert close(not_after(aws, arn), current.not_after)
    [item] = rot.plan(due=True)
    assert item.action == "continue" and "stopped at started" in item.message

    renewed = make_cert(400, cn=DOMAIN, sans=(f"www.{DOMAIN}",))
    write_bundle(tmp_path, "shop.pem", renewed.cert_pem, renewed.key_pem)   # a certificate valid now
    [resumed] = rot.run(due=True)
    assert resumed.result == "completed" and close(not_after(aws, arn), renewed.not_after)


def test_acm_import_done_but_unrecorded_is_not_repeated(aws, tmp_path, acm_world):
    """S3 refuses the final record write (another run wrote the record): the re-run sees the import done."""
    arn, _, rotations = acm_world
    renewed = make_cert(400, cn=DOMAIN, sans=(f"www.{DOMAIN}",))
    rot = rotations(write_bundle(tmp_path, "shop.pem", renewed.cert_pem, renewed.key_pem))
    rot.run(credential_id=arn, max_steps=0)
    ctx = rot.context()
    [(target, _)] = rot.targets(ctx, credential_id=arn)
    stored = target.store.load("acm_certificate", arn)
    key = target.store.location.key_for("acm_certificate", arn)
    aws("s3").put_object(Bucket="acme-tfstate", Key=key, Body=json.dumps(stored.record.to_json()).encode() + b" ")
    from harness.credentials.rotation import run_rotations

    [failed] = run_rotations([(target, stored)], ctx)
    assert failed.result == "failed" and close(not_after(aws, arn), renewed.not_after)
    [resumed] = rot.run(due=True)
    assert resumed.result == "completed" and "already imported" in resumed.message
    assert len([e for e in rot.audit_lines if e["action"] == "acm.import_certificate"]) == 1


# -- IAM server certificates -----------------------------------------------------------------------

@pytest.fixture
def iam_world(moto, aws, tmp_path):
    create_bucket(aws("s3"))
    current = make_cert(5, cn=DOMAIN, sans=(f"www.{DOMAIN}",))
    old_arn = aws("iam").upload_server_certificate(ServerCertificateName="shop", CertificateBody=current.cert_pem,
                                                   PrivateKey=current.key_pem)["ServerCertificateMetadata"]["Arn"]
    listeners = _load_balancers(aws, old_arn)     # (default-certificate listener, extra-certificate one)
    inst = instance("tls", "acme-prod")
    write_state(aws("s3"), inst, [("aws_iam_server_certificate", "shop", {"id": "ASCACKCEVSQ6C2EXAMPLE",
                                                                           "name": "shop", "arn": old_arn})])
    renewed = make_cert(400, cn=DOMAIN, sans=(f"www.{DOMAIN}",))
    (tmp_path / "shop.pem").write_text(renewed.cert_pem + renewed.key_pem)
    config = make_config(moto, tmp_path, certificate_sources={"shop": "shop.pem"},
                         profiles={"prod": {"iam_server_certificate": {"grace_days": 7}}})
    return old_arn, renewed, listeners, Rotations(config, stack_set(inst))


def _load_balancers(aws, certificate_arn):
    """An ALB whose HTTPS listener uses the certificate (another listener has it as an extra one),
    and a classic ELB listener using it."""
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")
               ["Subnet"]["SubnetId"] for i, z in ((1, "a"), (2, "b"))]
    elbv2 = aws("elbv2")
    balancer = elbv2.create_load_balancer(Name="shop", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    group = elbv2.create_target_group(Name="shop", Protocol="HTTP", Port=80,
                                      VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    listener = elbv2.create_listener(LoadBalancerArn=balancer, Protocol="HTTPS", Port=443,
                                     Certificates=[{"CertificateArn": certificate_arn}],
                                     DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])["Listeners"][0]
    other = make_cert(300, cn="other.example.com", sans=())
    other_arn = aws("acm").import_certificate(Certificate=other.cert_pem.encode(),
                                              PrivateKey=other.key_pem.encode())["CertificateArn"]
    extra = elbv2.create_listener(LoadBalancerArn=balancer, Protocol="HTTPS", Port=8443,
                                  Certificates=[{"CertificateArn": other_arn}],
                                  DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])["Listeners"][0]
    elbv2.add_listener_certificates(ListenerArn=extra["ListenerArn"],
                                    Certificates=[{"CertificateArn": certificate_arn}])
    aws("elb").create_load_balancer(LoadBalancerName="legacy", AvailabilityZones=[f"{REGION}a"], Listeners=[
        {"Protocol": "HTTPS", "LoadBalancerPort": 443, "InstancePort": 80, "SSLCertificateId": certificate_arn}])
    return listener["ListenerArn"], extra["ListenerArn"]


def extra_certs(aws, listener_arn) -> set[str]:
    listed = aws("elbv2").describe_listener_certificates(ListenerArn=listener_arn)["Certificates"]
    return {c["CertificateArn"] for c in listed if not c.get("IsDefault")}


def listener_certs(aws, listener_arn) -> list[str]:
    listener = aws("elbv2").describe_listeners(ListenerArns=[listener_arn])["Listeners"][0]
    return [c["CertificateArn"] for c in listener["Certificates"]]


def classic_cert(aws) -> str:
    balancer = aws("elb").describe_load_balancers(LoadBalancerNames=["legacy"])["LoadBalancerDescriptions"][0]
    return balancer["ListenerDescriptions"][0]["Listener"]["SSLCertificateId"]


def server_certs(aws) -> dict[str, str]:
    listing = aws("iam").list_server_certificates()["ServerCertificateMetadataList"]
    return {m["ServerCertificateName"]: m["Arn"] for m in listing}


def test_server_certificate_upload_then_switch_then_delete_after_grace(aws, iam_world):
    old_arn, renewed, (listener, extra), rot = iam_world
    assert old_arn in extra_certs(aws, extra)
    [item] = rot.plan(due=True)
    assert item.action == "start" and item.steps[0].startswith("upload the certificate from shop.pem as shop-")
    [first] = rot.run(due=True)
    assert (first.result, first.state) == ("waiting", "switched")
    certs = server_certs(aws)
    [new_name] = set(certs) - {"shop"}
    new_arn = certs[new_name]
    body = aws("iam").get_server_certificate(ServerCertificateName=new_name)["ServerCertificate"]["CertificateBody"]
    assert parse_certificate(body).fingerprint == parse_certificate(renewed.cert_pem).fingerprint
    assert listener_certs(aws, listener) == [new_arn] and classic_cert(aws) == new_arn
    assert extra_certs(aws, extra) == {new_arn} and listener_certs(aws, extra)[0] != new_arn   # default kept
    [waiting] = rot.run(now=days_from_now(2), due=True)
    assert waiting.result == "waiting" and "shop" in server_certs(aws)
    [done] = rot.run(now=days_from_now(8), due=True)
    assert done.result == "completed" and set(server_certs(aws)) == {new_name}
    uploads = [e for e in rot.audit_lines if e["action"] == "iam.upload_server_certificate"]
    assert len(uploads) == 1 and uploads[0]["target"] == new_name
    assert {e["action"] for e in rot.audit_lines} >= {
        "elbv2.modify_listener", "elbv2.add_listener_certificates", "elbv2.remove_listener_certificates",
        "elb.set_load_balancer_listener_ssl_certificate"}
    assert undeclared_writes(rot.audit_lines) == set()


def test_server_certificate_stopped_after_upload_resumes_without_uploading_twice(aws, iam_world):
    """S3 refuses the record write after the upload (another run wrote it): nothing is switched yet."""
    old_arn, _, (listener, _), rot = iam_world
    rot.run(due=True, max_steps=0)                     # the record exists, with the new name chosen
    ctx = rot.context()
    [(target, stored)] = rot.targets(ctx, due=True)
    location = target.store.location
    aws("s3").put_object(Bucket=location.bucket, Key=location.key_for("iam_server_certificate", "shop"),
                         Body=json.dumps(stored.record.to_json()).encode() + b" ")
    from harness.credentials.rotation import run_rotations

    [failed] = run_rotations([(target, stored)], ctx)
    assert failed.result == "failed" and "record changed" in failed.message
    assert len(server_certs(aws)) == 2                 # uploaded ...
    assert listener_certs(aws, listener) == [old_arn] and classic_cert(aws) == old_arn   # ... not switched

    [resumed] = rot.run(due=True)
    assert (resumed.result, resumed.state) == ("waiting", "switched")
    assert len(server_certs(aws)) == 2 and listener_certs(aws, listener) != [old_arn]
    assert len([e for e in rot.audit_lines if e["action"] == "iam.upload_server_certificate"]) == 1


def test_server_certificate_replacement_deleted_midway_is_uploaded_again(aws, iam_world):
    _, _, (listener, _), rot = iam_world
    [step] = rot.run(due=True, max_steps=1)            # started -> uploaded
    assert step.state == "uploaded"
    [new_name] = set(server_certs(aws)) - {"shop"}
    aws("iam").delete_server_certificate(ServerCertificateName=new_name)
    [resumed] = rot.run(due=True)
    assert resumed.result == "waiting"
    certs = server_certs(aws)
    assert set(certs) == {"shop", new_name} and listener_certs(aws, listener) == [certs[new_name]]


def test_server_certificate_refuses_a_replacement_expiring_sooner(aws, tmp_path, iam_world):
    old_arn, _, (listener, _), rot = iam_world
    short = make_cert(2, cn=DOMAIN, sans=(f"www.{DOMAIN}",))
    (tmp_path / "shop.pem").write_text(short.cert_pem + short.key_pem)
    [outcome] = rot.run(due=True)
    assert outcome.result == "refused" and "sooner than the current certificate" in outcome.message
    assert set(server_certs(aws)) == {"shop"} and listener_certs(aws, listener) == [old_arn]
