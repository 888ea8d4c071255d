"""Credential identifiers survive redaction; the values around them do not."""

from harness.log import Redactor


def test_secret_arns_and_sink_names_are_identifiers():
    redactor = Redactor()
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-password-AbCdEf"
    assert redactor.redact(arn) == arn
    assert redactor.redact("store it in secretsmanager:iam/alice/access-key") == \
        "store it in secretsmanager:iam/alice/access-key"
    assert redactor.redact('{"credentials": [{"id": "x"}]}') == '{"credentials": [{"id": "x"}]}'


def test_secret_values_are_still_masked():
    redactor = Redactor()
    assert redactor.redact("password=hunter2 secret: s3cr3t") == "password=[redacted] secret: [redacted]"
    assert redactor.redact('{"credentials": "AKIA-and-secret"}') == '{"credentials": "[redacted]"}'
