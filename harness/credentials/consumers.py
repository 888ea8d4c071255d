"""Load balancer listeners that use a certificate, found by ARN (read-only).

Used to switch an IAM server certificate's consumers to its replacement and to make sure nothing
still uses the old one before it is deleted. ELBv2 (ALB/NLB) and classic ELB listeners are found;
CloudFront distributions and API Gateway domains are not (see docs/credentials.md).
"""

from __future__ import annotations

from collections.abc import Iterable

from harness.aws.batching import paginate
from harness.credentials.aws import Clients
from harness.credentials.writes import ListenerRef

SECURE_PROTOCOLS = frozenset({"HTTPS", "TLS", "SSL"})


def listeners_using(clients: Clients, regions: Iterable[str], certificate_arn: str) -> list[ListenerRef]:
    """Every listener in `regions` whose certificates include `certificate_arn`."""
    found: list[ListenerRef] = []
    for region in sorted(set(regions)):
        elbv2 = clients("elbv2", region)
        for balancer in paginate(elbv2, "describe_load_balancers", "LoadBalancers"):
            for listener in paginate(elbv2, "describe_listeners", "Listeners",
                                     LoadBalancerArn=balancer["LoadBalancerArn"]):
                if listener.get("Protocol") not in SECURE_PROTOCOLS:
                    continue
                # One call says which certificate is the default and which are extra (SNI) ones.
                listed = elbv2.describe_listener_certificates(ListenerArn=listener["ListenerArn"]).get(
                    "Certificates", [])
                for cert in listed:
                    if cert["CertificateArn"] == certificate_arn:
                        found.append(ListenerRef("elbv2", region, listener["ListenerArn"],
                                                 default=bool(cert.get("IsDefault"))))
                        break
        elb = clients("elb", region)
        for balancer in paginate(elb, "describe_load_balancers", "LoadBalancerDescriptions"):
            for description in balancer.get("ListenerDescriptions") or []:
                listener = description.get("Listener") or {}
                if listener.get("SSLCertificateId") == certificate_arn:
                    found.append(ListenerRef("elb", region, balancer["LoadBalancerName"],
                                             port=int(listener["LoadBalancerPort"])))
    return found
