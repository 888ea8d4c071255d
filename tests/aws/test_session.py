"""Session pool: one session per (account, role, region), one client per (session, service), on moto."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from harness.aws import AwsTarget, SessionPool
from harness.aws.target import account_of_role
from harness.config import HarnessConfig, load_config
from harness.errors import AwsAccessError, ConfigError
from harness.stacks.model import ComponentInstance

ROLE = "arn:aws:iam::111122223333:role/reader"


def _instance(**fields) -> ComponentInstance:
    base = dict(component="vpc", stack="dev-use1", component_type="terraform", terraform_component="vpc",
                vars={}, settings={}, env={}, backend_type="s3", backend={}, metadata={}, providers={},
                workspace="dev-use1", state_key="vpc/terraform.tfstate", stack_file="dev")
    return ComponentInstance(**{**base, **fields})


def test_one_client_per_key_and_reuse(make_aws):
    aws = make_aws()
    s3 = aws.client("s3")
    assert aws.client("s3") is s3
    assert aws.client("s3", region="us-east-1") is s3          # the default region is the same key
    assert aws.client("s3", region="eu-west-1") is not s3
    assert aws.client("sqs") is not s3
    assert aws.pool.session() is aws.pool.session("us-east-1")
    assert aws.pool.sizes == (2, 3)                              # 2 regions; s3 x2 + sqs


def test_threads_share_one_client(make_aws):
    aws = make_aws()
    barrier = threading.Barrier(8)
    got: list[object] = []
    lock = threading.Lock()

    def grab() -> None:
        barrier.wait()
        client = aws.client("dynamodb", region="eu-central-1")
        with lock:
            got.append(client)

    threads = [threading.Thread(target=grab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 8 and all(c is got[0] for c in got)
    assert aws.pool.sizes == (1, 1)


def test_legacy_call_shape_still_works(moto, raw):
    raw("sqs").create_queue(QueueName="legacy")
    pool = SessionPool(HarnessConfig(aws_endpoint_url=moto))
    urls = pool.client("sqs", region="us-east-1").list_queues()["QueueUrls"]
    assert [u.rsplit("/", 1)[1] for u in urls] == ["legacy"]
    assert pool.meter.count("sqs.ListQueues") == 1


def test_endpoint_override_routes_every_client(make_aws, moto, raw):
    raw("s3").create_bucket(Bucket="routed-bucket")
    aws = make_aws()
    for service in ("s3", "sts", "iam", "ec2"):
        assert aws.client(service).meta.endpoint_url == moto
    assert [b["Name"] for b in aws.client("s3").list_buckets()["Buckets"]] == ["routed-bucket"]


def test_aws_endpoint_url_environment_variable_is_honoured(moto, tmp_path):
    config = load_config(cwd=tmp_path, environ={"AWS_ENDPOINT_URL": moto})
    assert config.aws_endpoint_url == moto
    assert SessionPool(config).client("sts").meta.endpoint_url == moto


def test_assume_role_through_sts(make_aws):
    aws = make_aws()
    sts = aws.client("sts", role_arn=ROLE)
    identity = sts.get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::111122223333:assumed-role/reader/stackharness"
    assert identity["Account"] == "111122223333"
    # A second service of the same (account, role, region) shares the session: no second AssumeRole.
    aws.client("s3", role_arn=ROLE).list_buckets()
    assert aws.meter.count("sts.AssumeRole") == 1
    assert aws.pool.identity(sts).account == "111122223333"
    # The role's account labels the calls in the meter; the chain's own calls say "default".
    assert aws.meter.count("sts.GetCallerIdentity", account="111122223333") == 1
    assert aws.meter.count("sts.AssumeRole", account="default") == 1


def test_assumed_credentials_are_redacted(make_aws):
    from harness.log import Redactor

    redactor = Redactor()
    aws = make_aws(redactor=redactor)
    creds = aws.pool.session(role_arn=ROLE).get_credentials().get_frozen_credentials()
    assert redactor.is_registered(creds.secret_key) and redactor.is_registered(creds.token)
    assert creds.secret_key not in redactor.redact(f"secret={creds.secret_key}")


def test_assumed_role_refreshes_before_expiry(make_aws, clock):
    aws = make_aws()
    sts = aws.client("sts", role_arn=ROLE)
    for _ in range(3):
        sts.get_caller_identity()
    assert aws.meter.count("sts.AssumeRole") == 1
    first_key = aws.pool.session(role_arn=ROLE).get_credentials().get_frozen_credentials().access_key
    clock.advance(timedelta(minutes=55).total_seconds())     # 5 minutes left of the hour
    sts.get_caller_identity()
    assert aws.meter.count("sts.AssumeRole") == 2
    refreshed = aws.pool.session(role_arn=ROLE).get_credentials().get_frozen_credentials().access_key
    assert refreshed != first_key


def test_assume_role_failure_is_a_clear_error(make_aws, moto_iam_auth, raw):
    aws = make_aws()
    aws.client("sts")  # created before auth is on; it signs with the dummy keys moto does not know
    moto_iam_auth()
    with pytest.raises(AwsAccessError, match=r"cannot assume role .*reader"):
        aws.client("s3", role_arn=ROLE).list_buckets()


def test_unknown_profile_is_a_config_error(moto):
    pool = SessionPool(HarnessConfig(aws_endpoint_url=moto, aws_profile="no-such-profile"))
    with pytest.raises(ConfigError, match="no-such-profile"):
        pool.client("s3")


def test_instance_and_backend_targets():
    instance = _instance(region="eu-west-1", account_id="111122223333", role_arn=ROLE,
                         environment_type="prod",
                         backend={"bucket": "tf-state", "region": "us-east-2",
                                  "assume_role": {"role_arn": "arn:aws:iam::999988887777:role/state"}})
    assert AwsTarget.of_instance(instance) == AwsTarget("eu-west-1", "111122223333", ROLE, "prod")
    assert AwsTarget.of_backend(instance) == AwsTarget(
        "us-east-2", "999988887777", "arn:aws:iam::999988887777:role/state", "prod")
    legacy = _instance(region="eu-west-1", backend={"role_arn": ROLE})
    assert AwsTarget.of_backend(legacy) == AwsTarget("eu-west-1", "111122223333", ROLE)
    assert account_of_role("not-an-arn") is None


def test_instance_clients_use_the_instance_target(make_aws):
    aws = make_aws()
    instance = _instance(region="eu-west-1", role_arn=ROLE, backend={"region": "us-east-2"})
    ec2 = aws.instance_client(instance, "ec2")
    assert ec2.meta.region_name == "eu-west-1"
    assert aws.pool.identity(ec2).account == "111122223333"
    state_s3 = aws.backend_client(instance, "s3")
    assert state_s3.meta.region_name == "us-east-2"
    assert aws.pool.identity(state_s3).account == "default"
    assert aws.client("ec2", region="eu-west-1", role_arn=ROLE) is ec2


def test_botocore_does_not_retry_on_its_own(make_aws):
    for client in (make_aws().client("s3"), make_aws().client("dynamodb")):
        assert client.meta.config.retries["total_max_attempts"] == 1


def test_worker_id_names_the_role_session(moto, clock):
    from harness.aws import AwsContext
    from harness.log import Redactor

    aws = AwsContext.from_config(HarnessConfig(aws_endpoint_url=moto), redactor=Redactor(), worker_id="gw3",
                                 clock=clock)
    arn = aws.client("sts", role_arn=ROLE).get_caller_identity()["Arn"]
    assert arn.endswith("assumed-role/reader/stackharness-gw3")
