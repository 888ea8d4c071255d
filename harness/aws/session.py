"""One boto3 session per (account, role, region) and one client per (session, service), shared.

Credentials come from the standard boto3 chain (environment, `aws_profile`, SSO, instance role...);
with a `role_arn` the session's credentials are that role's, assumed through a pooled STS client and
refreshed before they expire. `aws_endpoint_url` routes every client, STS included. Every client
gets the access layer's hooks (guard, budget, retries, rate limit, faults, meter).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import ProfileNotFound

from harness.aws.budget import ApiBudget
from harness.aws.clock import Clock, SystemClock
from harness.aws.credentials import ROLE_SESSION_NAME, assume_role_credentials, botocore_session
from harness.aws.guard import ReadOnlyGuard
from harness.aws.hooks import BOTO_CONFIG, CallHooks, ClientIdentity
from harness.aws.meter import ApiMeter
from harness.aws.ratelimit import RateLimiters
from harness.aws.target import AwsTarget, account_of_role
from harness.config import EnvironmentProfile, HarnessConfig
from harness.errors import ConfigError
from harness.log import Redactor

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from harness.aws.guard import WritePermission
    from harness.stacks.model import ComponentInstance

DEFAULT_ACCOUNT = "default"


@dataclass(frozen=True)
class SessionKey:
    """What a session is shared by."""

    account: str
    role_arn: str | None
    region: str


class SessionPool:
    """Lazily created, thread-safe, reused boto3 sessions and clients for the whole run.

    `SessionPool(config)` alone builds a read-only pool with its own meter and no budget; the run's
    pool comes from `AwsContext.from_config`, which shares the hooks with the rest of the run.
    """

    def __init__(self, config: HarnessConfig, *, hooks: CallHooks | None = None,
                 redactor: Redactor | None = None, clock: Clock | None = None,
                 role_session_name: str = ROLE_SESSION_NAME) -> None:
        self.config = config
        self.role_session_name = role_session_name
        self.redactor = redactor or Redactor()
        self.clock = clock or (hooks.clock if hooks else SystemClock())
        self.hooks = hooks or CallHooks(guard=ReadOnlyGuard(self.redactor), meter=ApiMeter(),
                                        budget=ApiBudget(None), clock=self.clock,
                                        limiters=RateLimiters(self.clock))
        # Re-entrant: creating a role's session creates the STS client it assumes the role with.
        self._lock = threading.RLock()
        self._sessions: dict[SessionKey, boto3.Session] = {}
        self._clients: dict[tuple[SessionKey, str, str], Any] = {}
        self._identities: dict[int, ClientIdentity] = {}

    # -- sessions and clients ----------------------------------------------------------------------
    def _key(self, region: str | None, account_id: str | None, role_arn: str | None) -> SessionKey:
        account = account_id or (account_of_role(role_arn) if role_arn else None) or DEFAULT_ACCOUNT
        return SessionKey(account, role_arn or None, region or self.config.default_region)

    def session(self, region: str | None = None, *, account_id: str | None = None,
                role_arn: str | None = None) -> boto3.Session:
        """The session for an (account, role, region), created once."""
        return self._session(self._key(region, account_id, role_arn))

    def _session(self, key: SessionKey) -> boto3.Session:
        session = self._sessions.get(key)
        if session is not None:
            return session
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = self._new_session(key)
            return self._sessions[key]

    def _new_session(self, key: SessionKey) -> boto3.Session:
        credentials = None
        if key.role_arn:
            # The role is assumed with the chain's credentials, in the same region and endpoint.
            sts = self.client("sts", region=key.region)
            credentials = assume_role_credentials(sts, key.role_arn, clock=self.clock,
                                                  redactor=self.redactor,
                                                  session_name=self.role_session_name)
        try:
            core = botocore_session(self.config.aws_profile, credentials)
            return boto3.Session(botocore_session=core, region_name=key.region)
        except ProfileNotFound:
            raise ConfigError(f"AWS profile {self.config.aws_profile!r} is not configured",
                              where="aws_profile",
                              hint="name a profile from ~/.aws/config, or unset aws_profile") from None

    def client(self, service: str, *, region: str | None = None, account_id: str | None = None,
               role_arn: str | None = None, environment_type: str | None = None) -> Any:
        """The shared client for a service in an (account, role, region), routed to `aws_endpoint_url`.

        `environment_type` selects the environment profile whose retry and rate settings apply.
        """
        key = self._key(region, account_id, role_arn)
        profile = self.config.profile_for(environment_type)
        client_key = (key, service, profile.name)
        client = self._clients.get(client_key)
        if client is not None:
            return client
        with self._lock:
            client = self._clients.get(client_key)
            if client is None:
                client = self._new_client(key, service, profile)
                self._clients[client_key] = client
            return client

    def _new_client(self, key: SessionKey, service: str, profile: EnvironmentProfile) -> Any:
        config = BOTO_CONFIG
        if self.config.aws_endpoint_url and service == "s3":
            # Local endpoints (moto) are IP addresses: virtual-host bucket names cannot resolve.
            config = config.merge(BotoConfig(s3={"addressing_style": "path"}))
        client = self._session(key).client(service, region_name=key.region, config=config,
                                           endpoint_url=self.config.aws_endpoint_url)
        identity = ClientIdentity(service, key.account, key.region)
        self.hooks.install(client, identity, self.hooks.policy(profile.retry), profile.rate_limit)
        self._identities[id(client)] = identity
        return client

    def client_for(self, target: AwsTarget, service: str) -> Any:
        """The client for a service at an `AwsTarget`."""
        return self.client(service, region=target.region, account_id=target.account_id,
                           role_arn=target.role_arn, environment_type=target.environment_type)

    def instance_client(self, instance: ComponentInstance, service: str) -> Any:
        """A client for the instance's resources (its region, account and role)."""
        return self.client_for(AwsTarget.of_instance(instance), service)

    def backend_client(self, instance: ComponentInstance, service: str) -> Any:
        """A client for the instance's state (the S3 backend's region and role)."""
        return self.client_for(AwsTarget.of_backend(instance), service)

    def identity(self, client: Any) -> ClientIdentity:
        """The (service, account, region) a pooled client calls as."""
        try:
            return self._identities[id(client)]
        except KeyError:
            raise ValueError("not a client of this pool") from None

    @property
    def sizes(self) -> tuple[int, int]:
        """(sessions, clients) created so far."""
        with self._lock:
            return len(self._sessions), len(self._clients)

    # -- shortcuts to the shared parts ---------------------------------------------------------------
    @property
    def meter(self) -> ApiMeter:
        return self.hooks.meter

    def allow_writes(self, reason: str, *, operations: Collection[str] | None = None,
                     only: Mapping[str, Any] | None = None, level: int = logging.WARNING,
                     accept: Callable[[Mapping[str, Any]], bool] | None = None
                     ) -> AbstractContextManager[WritePermission]:
        """Permit writes in the block (see `ReadOnlyGuard.allow_writes`); each one is logged."""
        return self.hooks.guard.allow_writes(reason, operations=operations, only=only, level=level,
                                             accept=accept)

    def allow_lock_writes(self, table: str) -> AbstractContextManager[WritePermission]:
        """Permit only the Terraform lock item's `PutItem`/`DeleteItem` on `table` (never a `-md5` digest item)."""
        return self.hooks.guard.allow_lock_writes(table)
