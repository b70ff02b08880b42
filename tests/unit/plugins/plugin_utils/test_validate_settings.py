# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation of KMS setting values: what is accepted, how it is normalised, and what each error says."""

from __future__ import annotations

import typing as t

import pytest

from ansible_collections.winact.kms.plugins.plugin_utils import _validate as v


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("kms01.corp.example.com", "kms01.corp.example.com"),
        ("KMS01.Corp.Example.com.", "KMS01.Corp.Example.com."),
        ("KMS01", "KMS01"),
        ("kms-01", "kms-01"),
        ("192.0.2.10", "192.0.2.10"),
        ("169.254.169.250", "169.254.169.250"),
        ("fd00::1", "[fd00::1]"),
        ("[fd00::1]", "[fd00::1]"),
        ("FD00:EC2:0::250", "[fd00:ec2::250]"),
        ("[fd00:ec2::250]", "[fd00:ec2::250]"),
        ("::ffff:192.0.2.1", "[::ffff:192.0.2.1]"),
        ("::FFFF:C000:201", "[::ffff:192.0.2.1]"),
        ("[0:0:0:0:0:ffff:c000:201]", "[::ffff:192.0.2.1]"),
        ("azkms.core.windows.net", "azkms.core.windows.net"),
    ],
)
def test_server_accepts_names_and_addresses(given: str, stored: str) -> None:
    assert v.kms_server("server", given) == stored


@pytest.mark.parametrize(
    ("given", "fragment"),
    [
        ("", "must not be empty"),
        ("   ", "must not be empty"),
        ("kms 01", "whitespace"),
        (" kms01", "whitespace"),
        ("kms01\t", "whitespace"),
        ("http://kms01.corp.example.com", "scheme"),
        ("kms01.corp.example.com/activate", "path"),
        ("kms01\\share", "separator"),
        ("kms01.corp.example.com:1688", "includes a port"),
        ("kms01:1688", "includes a port"),
        ("[fd00::1]:1688", "includes a port"),
        ("[fd00::1]x", "text after ']'"),
        ("[fd00::1", "without ']'"),
        ("fd00::1]", "without '['"),
        ("fd00::1::2", "not a valid IPv6"),
        ("fd00:::1", "not a valid IPv6"),
        ("fe80::1%12", "zone index"),
        ("[fe80::1%eth0]", "zone index"),
        ("192.168.1", "not a valid IPv4"),
        ("192.168.1.300", "not a valid IPv4"),
        ("1234", "not a valid IPv4"),
        ("-kms", "NetBIOS"),
        ("averyveryverylongname", "NetBIOS"),
        ("kms_01", "NetBIOS"),
        ("kms..corp", "empty label"),
        ("kms.-corp.example.com", "invalid label"),
        ("kms.corp.123", "numeric label"),
        ("kms:abc", "contains ':'"),
        ("kmś.example.com", "non-ASCII"),
        ("a" * 64 + ".example.com", "longer than 63"),
    ],
)
def test_server_rejects_with_a_message_naming_the_option(given: str, fragment: str) -> None:
    with pytest.raises(v.ValidationError) as info:
        v.kms_server("server", given)
    message = str(info.value)
    assert message.startswith("server: ")
    assert fragment in message
    assert v.SERVER_ALLOWED in message
    assert info.value.option == "server"


@pytest.mark.parametrize("bad", [None, 1688, ["kms01"]])
def test_server_rejects_non_strings(bad: t.Any) -> None:
    with pytest.raises(v.ValidationError, match="not a string"):
        v.kms_server("server", bad)


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("KMS01.corp", "kms01.corp."),
        ("[FD00:0::1]", "[fd00::1]"),
        ("[::ffff:c000:201]", "::ffff:192.0.2.1"),
    ],
)
def test_same_server_ignores_case_and_ipv6_spelling(left: str, right: str) -> None:
    assert v.same_server(left, right)


def test_same_server_tells_hosts_apart() -> None:
    assert not v.same_server("kms01", "kms02")
    assert not v.same_server(None, "kms01")
    assert v.same_server(None, None)


@pytest.mark.parametrize("good", [1, 1688, 65535])
def test_port_accepts_the_tcp_range(good: int) -> None:
    assert v.port("port", good) == good


@pytest.mark.parametrize("bad", [0, 70000, 65536, -1])
def test_port_out_of_range(bad: int) -> None:
    with pytest.raises(v.ValidationError, match=rf"^port: {bad} is out of range; expected 1-65535$"):
        v.port("port", bad)


@pytest.mark.parametrize("bad", [True, "1688", 16.88])
def test_port_must_be_an_integer(bad: t.Any) -> None:
    with pytest.raises(v.ValidationError, match="not an integer"):
        v.port("listening_port", bad)


@pytest.mark.parametrize("good", [15, 120, 10080, 43200])
def test_interval_accepts_15_to_43200(good: int) -> None:
    assert v.interval("activation_interval", good) == good


@pytest.mark.parametrize("bad", [14, 43201, 0])
def test_interval_out_of_range(bad: int) -> None:
    with pytest.raises(
        v.ValidationError, match=rf"^renewal_interval: {bad} is out of range; expected 15-43200 minutes$"
    ):
        v.interval("renewal_interval", bad)


@pytest.mark.parametrize("good", [0, 10, 65535])
def test_srv_fields(good: int) -> None:
    assert v.srv_field("dns_publish_domains[0].priority", good) == good


@pytest.mark.parametrize("bad", [-1, 65536])
def test_srv_fields_out_of_range(bad: int) -> None:
    with pytest.raises(v.ValidationError, match=r"^dns_publish_domains\[0\]\.weight: .* expected 0-65535$"):
        v.srv_field("dns_publish_domains[0].weight", bad)


@pytest.mark.parametrize("good", ["corp.example.com", "east.contoso.com.", "contoso", "xn--bcher-kva.example"])
def test_dns_domain_accepts(good: str) -> None:
    assert v.dns_domain("lookup_domain", good) == good


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("", "must not be empty"),
        ("corp example.com", "whitespace"),
        ("corp_example.com", "invalid label"),
        ("-corp.example.com", "invalid label"),
        ("corp..example.com", "empty label"),
        ("corp.example.com:53", "without a port"),
        ("http://corp.example.com", "not a domain name"),
        ("KMS_E1", "invalid label"),
        ("b\u00fccher.example", "non-ASCII"),
        ("a." * 127 + "com", "longer than 253"),
    ],
)
def test_dns_domain_rejects(bad: str, fragment: str) -> None:
    with pytest.raises(v.ValidationError) as info:
        v.dns_domain("lookup_domain", bad)
    assert str(info.value).startswith("lookup_domain: ")
    assert fragment in str(info.value)
    assert "DNS domain name" in str(info.value)


@pytest.mark.parametrize(
    "good", ["http://contoso.com/help", "https://help.contoso.com:8443/activation?x=1", "HTTPS://contoso.com"]
)
def test_http_url_accepts(good: str) -> None:
    assert v.http_url("alternate_url", good) == good


@pytest.mark.parametrize(
    ("bad", "fragment"),
    [
        ("ftp://contoso.com/help", "scheme 'ftp'"),
        ("file:///c:/help.html", "scheme 'file'"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("contoso.com/help", "no scheme"),
        ("https://", "no host name"),
        ("https://contoso.com:99999/", "invalid port"),
        ("https://contoso.com/a b", "whitespace"),
    ],
)
def test_http_url_rejects(bad: str, fragment: str) -> None:
    with pytest.raises(v.ValidationError) as info:
        v.http_url("alternate_url", bad)
    assert str(info.value).startswith("alternate_url: ")
    assert fragment in str(info.value)
    assert "http:// or https://" in str(info.value)


def test_activation_id_is_normalised() -> None:
    guid = "EF6CFC9F-8C5D-44AC-9AAD-DE6A2EA0AE03"
    assert v.activation_id("activation_id", guid) == guid.lower()
    assert v.activation_id("activation_id", "{" + guid + "}") == guid.lower()


@pytest.mark.parametrize("bad", ["not-a-guid", "ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae0", "x'OR'1'='1"])
def test_activation_id_rejects_non_guids(bad: str) -> None:
    with pytest.raises(v.ValidationError, match="^activation_id: .*not a GUID"):
        v.activation_id("activation_id", bad)
