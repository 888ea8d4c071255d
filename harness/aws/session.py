"""One boto3 session per (profile, role, region) and one client per (session, service), shared."""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

from harness.config import HarnessConfig


class SessionPool:
    """Lazily created, thread-safe, reused boto3 sessions and clients for the whole run."""

    def __init__(self, config: HarnessConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._sessions: dict[tuple[str | None, str], boto3.Session] = {}
        self._clients: dict[tuple[str | None, str, str], Any] = {}
        self._boto_config = BotoConfig(retries={"max_attempts": 3, "mode": "standard"},
                                       connect_timeout=10, read_timeout=60)

    def session(self, region: str | None = None) -> boto3.Session:
        """The session for a region (created once)."""
        key = (self.config.aws_profile, region or self.config.default_region)
        with self._lock:
            if key not in self._sessions:
                self._sessions[key] = boto3.Session(profile_name=key[0], region_name=key[1])
            return self._sessions[key]

    def client(self, service: str, *, region: str | None = None) -> Any:
        """The shared client for a service in a region, routed to `aws_endpoint_url` when set."""
        region = region or self.config.default_region
        key = (self.config.aws_profile, region, service)
        with self._lock:
            cached = self._clients.get(key)
        if cached is not None:
            return cached
        config = self._boto_config
        if self.config.aws_endpoint_url and service == "s3":
            # Local endpoints (moto) are IP addresses: virtual-host bucket names cannot resolve.
            config = config.merge(BotoConfig(s3={"addressing_style": "path"}))
        client = self.session(region).client(service, endpoint_url=self.config.aws_endpoint_url,
                                             config=config)
        with self._lock:
            return self._clients.setdefault(key, client)
