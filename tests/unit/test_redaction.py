"""Redaction: recognisable secrets, secret-named values and registered values never come out."""

from __future__ import annotations

import io
import json
import logging

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.log import MASK, Redactor, is_secret_key, setup_logging

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ"
SESSION_TOKEN = "FwoGZXIvYXdzEBYaDKQxTZ7dz0hZ3q5p2yKsAR8a2nCanaryCanaryCanary1234567890abcdef"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAcanary\n-----END RSA PRIVATE KEY-----"


def test_recognisable_secrets_are_masked():
    text = f"key={SECRET_KEY} token {SESSION_TOKEN}\n{PEM}\nAKIAIOSFODNN7EXAMPLE"
    out = Redactor().redact(text)
    for secret in (SECRET_KEY, SESSION_TOKEN, "MIIEowIBAAKCAQEAcanary"):
        assert secret not in out
    assert "AKIAIOSFODNN7EXAMPLE" in out  # access key ids are identifiers


def test_secret_named_values_are_masked_in_every_syntax():
    text = 'password=hunter22 "db_password": "s3cr3t!" client_secret: abcd1234, api_token = "t0k3n"'
    out = Redactor().redact(text)
    for secret in ("hunter22", "s3cr3t!", "abcd1234", "t0k3n"):
        assert secret not in out
    assert out.count(MASK) == 4


def test_identifiers_of_secrets_are_not_masked():
    text = "secret_id: my-app/db SecretArn=arn:aws:secretsmanager:us-east-1:1:secret:x token_expires_at: 2026"
    assert Redactor().redact(text) == text
    assert not is_secret_key("SecretArn") and is_secret_key("SecretAccessKey")


def test_hex_digests_survive():
    digest = "3f786850e387550fdab836ed7e6dc881de23001b"
    assert Redactor().redact(f"md5 {digest}") == f"md5 {digest}"


def test_registered_values_are_masked_anywhere():
    redactor = Redactor()
    redactor.register({"value": "canary-value-1", "nested": ["canary-value-2"]})
    out = redactor.redact("a canary-value-1 b xcanary-value-2y")
    assert "canary-value" not in out


def test_redact_obj_masks_secret_keys_and_values():
    redactor = Redactor(["registered-canary"])
    data = {"password": "p4ss", "name": "ok", "list": ["registered-canary"], "Tags": {"Token": "v4lue"}}
    out = redactor.redact_obj(data)
    assert out == {"password": MASK, "name": "ok", "list": [MASK], "Tags": {"Token": MASK}}


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=4, max_size=40))
def test_any_registered_value_never_survives(secret):
    redactor = Redactor([secret])
    assert secret not in redactor.redact(f"before {secret} after")


def test_log_handlers_redact_messages_arguments_and_tracebacks():
    redactor = Redactor(["canary-registered-secret"])
    stream = io.StringIO()
    logger = setup_logging(redactor, verbose=1, stream=stream)
    logger.info("value %s and password=%s", "canary-registered-secret", "hunter22")
    try:
        raise RuntimeError(f"boom {SECRET_KEY}")
    except RuntimeError:
        logger.exception("failed")
    output = stream.getvalue()
    assert "canary-registered-secret" not in output and "hunter22" not in output and SECRET_KEY not in output
    assert "RuntimeError" in output


def test_json_log_format_is_one_object_per_line_and_redacted():
    redactor = Redactor(["canary-json-secret"])
    stream = io.StringIO()
    logger = setup_logging(redactor, log_format="json", stream=stream)
    logger.warning("leak canary-json-secret")
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert entries[-1]["level"] == "WARNING"
    assert "canary-json-secret" not in entries[-1]["message"]
    logging.getLogger().handlers.clear()


CANARY = "CanaryValue7"


def test_a_list_under_a_secret_named_key_is_masked_item_by_item():
    data = {"api_token": [CANARY + "a", CANARY + "b"], "credentials": {"user": "me", "password": CANARY}}
    assert Redactor().redact_obj(data) == {"api_token": [MASK, MASK],
                                           "credentials": {"user": "me", "password": MASK}}
    for text in (json.dumps(data), json.dumps(data, indent=2)):
        assert json.loads(Redactor().redact(text)) == Redactor().redact_obj(data)
    yaml_flow = f"api_token: [{CANARY}a, '{CANARY}b', \"{CANARY}],c\"] next"
    assert Redactor().redact(yaml_flow) == f"api_token: [{MASK}, '{MASK}', \"{MASK}\"] next"


def test_escaped_json_secrets_are_masked_whole():
    inner = json.dumps({"user": "u", "password": CANARY, "note": 'a "quoted" word'})
    assert Redactor().redact(json.dumps({"secret_string": inner})) == json.dumps({"secret_string": MASK})
    # A secret-named key inside an escaped JSON value of an ordinary key.
    out = Redactor().redact(json.dumps({"config": json.dumps({"user": "u", "password": CANARY})}))
    assert CANARY not in out and '\\"user\\": \\"u\\"' in out


_ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.lists(_ANY_TEXT, min_size=1, max_size=4), st.dictionaries(_ANY_TEXT, _ANY_TEXT, max_size=4))
def test_lists_and_escaped_json_under_secret_keys_never_leak(items, inner):
    redactor = Redactor()
    assert redactor.redact(json.dumps({"api_token": items})) == json.dumps({"api_token": [MASK] * len(items)})
    assert redactor.redact(json.dumps({"secret_string": json.dumps(inner)})) == \
        json.dumps({"secret_string": MASK})


def test_redaction_is_idempotent_so_several_handlers_mask_once():
    redactor = Redactor()
    once = redactor.redact('password=hunter2secret token: "abc123def" secret=[a1b2c3d4, e5f6g7h8]')
    assert redactor.redact(once) == once
    assert once == 'password=[redacted] token: "[redacted]" secret=[[redacted], [redacted]]'
