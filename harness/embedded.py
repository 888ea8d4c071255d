"""The embedded AWS default: a moto server in this process, on 127.0.0.1 at a free port."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

# Credentials moto accepts; never real ones. Set for the embedded server only.
DUMMY_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                     "AWS_SESSION_TOKEN": "testing"}


@contextmanager
def embedded_moto() -> Iterator[str]:
    """Run a moto server for the duration of the block; yields its endpoint URL (http://127.0.0.1:PORT).

    Port 0 lets the OS pick a free port, so two runs never collide and nothing is left behind. moto
    keeps its resources per process, not per server, so the server is reset when it starts: a second
    embedded run in one process starts empty too.
    """
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one INFO line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        reset_moto(endpoint)
        log.debug("embedded moto server on %s", endpoint)
        yield endpoint
    finally:
        server.stop()


def moto_api(endpoint: str, path: str, payload: dict | None = None) -> None:
    """POST to moto's control API (`/moto-api/reset`, `/moto-api/config`)."""
    data = json.dumps(payload).encode() if payload is not None else b""
    request = urllib.request.Request(f"{endpoint.rstrip('/')}/moto-api/{path.lstrip('/')}", data=data,
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def reset_moto(endpoint: str) -> None:
    """Forget every resource on a moto server."""
    moto_api(endpoint, "reset")
