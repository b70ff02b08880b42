# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings table, the request builder (validation), reading, planning, diffing and applying."""

from __future__ import annotations

import typing as t

import pytest
import yaml

from ansible_collections.winact.kms.plugins.plugin_utils import _settings as s
from ansible_collections.winact.kms.plugins.plugin_utils._action import argument_spec_for
from ansible_collections.winact.kms.plugins.plugin_utils._errors import explain
from ansible_collections.winact.kms.plugins.plugin_utils._explain import ERROR_KEYS
from ansible_collections.winact.kms.plugins.plugin_utils._registry import RegType
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure, TaskContext
from ansible_collections.winact.kms.plugins.plugin_utils._validate import ValidationError
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    WSManFault,
    WSManProtocolError,
    WSManTimeout,
    WSManUnreachable,
)
from ansible_collections.winact.kms.tests.unit.plugins.action_harness import run_action
from ansible_collections.winact.kms.tests.unit.plugins.spp_fake import SPP, FakeHost

PRODUCT = "ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03"
MODULES = {s.Scope.CLIENT: "kms_client", s.Scope.HOST: "kms_host", s.Scope.POLICY: "activation_policy"}
NOT_SETTINGS = {"restart_service", "state", "activation_id", "application"}


# The first pending-restart note on a host: the write finds no key, creates it, writes again.
NOTE_FIRST_TIME = ("StdRegProv.SetMultiStringValue", "StdRegProv.CreateKey", "StdRegProv.SetMultiStringValue")


def ctx(check: bool = False, diff: bool = True) -> TaskContext:
    return TaskContext(check_mode=check, diff_mode=diff, task_vars={})


def run(fake: FakeHost, scope: s.Scope, context: TaskContext | None = None, **params: t.Any) -> dict[str, t.Any]:
    request = s.build_request(scope, params)
    return s.execute(t.cast(t.Any, fake), request, context or ctx())


# ------------------------------------------------------------------------------------------------
# The table
# ------------------------------------------------------------------------------------------------
def test_every_setting_is_described_once_with_a_usable_path() -> None:
    assert len(s.SETTINGS) == len(s.TABLE)
    for setting in s.TABLE:
        assert setting.paths, setting.option
        for via in setting.paths.values():
            if via is s.Via.WMI:
                assert setting.wmi is not None, setting.option
            else:
                assert setting.registry is not None, setting.option
        assert setting.restart_source, setting.option


@pytest.mark.parametrize("scope", list(s.Scope))
def test_each_module_documents_exactly_its_view(scope: s.Scope) -> None:
    spec = argument_spec_for(MODULES[scope])
    assert set(spec) - NOT_SETTINGS == {setting.option for setting in s.view(scope)}
    assert spec["restart_service"]["choices"] == list(s.RESTART_CHOICES)


def test_doc_stubs_declare_check_and_diff_support() -> None:
    import importlib

    for module in MODULES.values():
        doc = yaml.safe_load(
            importlib.import_module(f"ansible_collections.winact.kms.plugins.modules.{module}").DOCUMENTATION
        )
        assert doc["attributes"]["check_mode"]["support"] == "full"
        assert doc["attributes"]["diff_mode"]["support"] == "full"


@pytest.mark.parametrize(
    ("option", "name", "reg_type", "subkey"),
    [
        ("server", "KeyManagementServiceName", RegType.SZ, ""),
        ("port", "KeyManagementServicePort", RegType.SZ, ""),
        ("listening_port", "KeyManagementServiceListeningPort", RegType.SZ, ""),
        ("dns_publishing", "DisableDnsPublishing", RegType.DWORD, ""),
        ("dns_publish_domains", "DnsDomainPublishList", RegType.MULTI_SZ, ""),
        ("low_priority", "EnableKmsLowPriority", RegType.DWORD, ""),
        ("activation_interval", "VLActivationInterval", RegType.DWORD, ""),
        ("renewal_interval", "VLRenewalInterval", RegType.DWORD, ""),
        ("alternate_url", "AlternateURL", RegType.SZ, "Activation"),
        ("notifications_disabled", "NotificationDisabled", RegType.DWORD, "Activation"),
        ("manual_activation", "Manual", RegType.DWORD, "Activation"),
        ("user_operations", "UserOperations", RegType.DWORD, ""),
        ("skip_rearm", "SkipRearm", RegType.DWORD, ""),
    ],
)
def test_registry_locations_follow_the_technical_reference(
    option: str, name: str, reg_type: RegType, subkey: str
) -> None:
    value = s.SETTINGS[option].registry
    assert value is not None
    assert (value.name, value.reg_type, value.subkey) == (name, reg_type, subkey)
    assert value.key.startswith(SPP)


SAMPLES: dict[str, t.Any] = {
    "server": "kms01.corp.example.com",
    "port": 1700,
    "lookup_domain": "corp.example.com",
    "listening_port": 1700,
    "dns_publishing": False,
    "dns_publish_domains": [{"domain": "east.contoso.com", "priority": 10, "weight": 75}],
    "low_priority": True,
    "activation_interval": 60,
    "renewal_interval": 4320,
    "alternate_url": "https://help.contoso.com",
    "notifications_disabled": True,
    "manual_activation": True,
    "user_operations": True,
    "skip_rearm": True,
    "activation_type": "token",
}
PY_TYPES = {
    RegType.SZ: str,
    RegType.EXPAND_SZ: str,
    RegType.DWORD: int,
    RegType.QWORD: int,
    RegType.MULTI_SZ: list,
}


@pytest.mark.parametrize("option", sorted(SAMPLES))
def test_codecs_write_what_the_registry_type_holds_and_read_it_back(option: str) -> None:
    setting = s.SETTINGS[option]
    assert setting.registry is not None
    value = setting.codec.normalise(option, SAMPLES[option])
    data = setting.codec.to_registry(value)
    assert isinstance(data, PY_TYPES[setting.registry.reg_type])
    assert setting.codec.same(setting.codec.from_registry(data), value)


def test_restart_needs_follow_the_facts() -> None:
    no_restart = {"server", "port", "lookup_domain", "host_caching", "activation_type"}  # slmgr gives no warning
    for option in no_restart:
        assert s.SETTINGS[option].restart is False
    for setting in s.view(s.Scope.HOST):
        assert setting.restart is True, setting.option  # slmgr warns / S-DNSDOC
    assert s.SETTINGS["user_operations"].restart is True  # S-OPTCFG
    assert s.SETTINGS["notifications_disabled"].restart is True  # S-OPTCFG


def test_intervals_use_wmi_on_a_host_and_the_registry_on_a_client() -> None:
    for option in ("activation_interval", "renewal_interval"):
        setting = s.SETTINGS[option]
        assert setting.via(s.Scope.HOST) is s.Via.WMI and setting.needs_kms_host(s.Scope.HOST)
        assert setting.via(s.Scope.CLIENT) is s.Via.REGISTRY and not setting.needs_kms_host(s.Scope.CLIENT)


def test_host_only_settings() -> None:
    host_only = {x.option for x in s.view(s.Scope.HOST) if x.needs_kms_host(s.Scope.HOST)}
    assert host_only == {"listening_port", "dns_publishing", "low_priority", "activation_interval", "renewal_interval"}


# ------------------------------------------------------------------------------------------------
# Requests (validation before I/O)
# ------------------------------------------------------------------------------------------------
def test_options_left_out_are_not_desired() -> None:
    request = s.build_request(s.Scope.HOST, {"listening_port": 1700, "dns_publishing": None, "restart_service": None})
    assert request.desired == {"listening_port": 1700}
    assert request.restart == "auto"


def test_client_server_without_port_clears_the_port() -> None:
    request = s.build_request(s.Scope.CLIENT, {"server": "fd00::1"})
    assert request.desired == {"server": "[fd00::1]", "port": 1688}


def test_client_port_alone_leaves_the_name() -> None:
    assert s.build_request(s.Scope.CLIENT, {"port": 1700}).desired == {"port": 1700}


def test_client_absent_clears_name_port_and_lookup_domain() -> None:
    request = s.build_request(s.Scope.CLIENT, {"state": "absent", "host_caching": False, "lookup_domain": ""})
    assert request.desired == {"server": None, "port": 1688, "lookup_domain": None, "host_caching": False}


def test_client_absent_with_lookup_domain_discovers_in_that_domain() -> None:
    request = s.build_request(s.Scope.CLIENT, {"state": "absent", "lookup_domain": "east.example.com"})
    assert request.desired == {"server": None, "port": 1688, "lookup_domain": "east.example.com"}


@pytest.mark.parametrize("option", ["server", "port"])
def test_client_absent_refuses_values_it_would_clear(option: str) -> None:
    params = {"state": "absent", option: SAMPLES.get(option, "corp.example.com")}
    with pytest.raises(ValidationError, match=rf"^{option}: cannot be used with state=absent"):
        s.build_request(s.Scope.CLIENT, params)


def test_empty_lookup_domain_and_url_clear() -> None:
    assert s.build_request(s.Scope.CLIENT, {"lookup_domain": ""}).desired == {"lookup_domain": None}
    assert s.build_request(s.Scope.POLICY, {"alternate_url": ""}).desired == {"alternate_url": None}


@pytest.mark.parametrize(
    ("scope", "params", "message"),
    [
        (s.Scope.CLIENT, {"port": 0}, "port: 0 is out of range; expected 1-65535"),
        (s.Scope.CLIENT, {"server": "kms01", "port": 70000}, "port: 70000 is out of range"),
        (s.Scope.CLIENT, {"activation_interval": 14}, "activation_interval: 14 is out of range; expected 15-43200"),
        (s.Scope.HOST, {"renewal_interval": 43201}, "renewal_interval: 43201 is out of range"),
        (s.Scope.CLIENT, {"server": ""}, "server: must not be empty"),
        (s.Scope.CLIENT, {"server": "kms 01"}, "server: 'kms 01' contains whitespace"),
        (s.Scope.CLIENT, {"server": "https://kms01"}, "server: 'https://kms01' has a URL scheme"),
        (s.Scope.CLIENT, {"server": "kms01:1688"}, "includes a port"),
        (s.Scope.CLIENT, {"server": "fe80::1%3"}, "zone index"),
        (s.Scope.CLIENT, {"lookup_domain": "bad_domain"}, "lookup_domain: 'bad_domain' has an invalid label"),
        (s.Scope.CLIENT, {"activation_id": "abc"}, "activation_id: 'abc' is not a GUID"),
        (s.Scope.HOST, {"listening_port": 0}, "listening_port: 0 is out of range"),
        (
            s.Scope.HOST,
            {"dns_publish_domains": [{"domain": "east.contoso.com", "priority": 70000, "weight": 0}]},
            "dns_publish_domains[0].priority: 70000 is out of range; expected 0-65535",
        ),
        (
            s.Scope.HOST,
            {"dns_publish_domains": [{"domain": "a.example"}, {"domain": "b_c.example", "weight": 1}]},
            "dns_publish_domains[1].domain: 'b_c.example' has an invalid label",
        ),
        (
            s.Scope.HOST,
            {"dns_publish_domains": [{"domain": "a.example"}, {"domain": "A.example."}]},
            "dns_publish_domains[1].domain: 'A.example.' is listed twice",
        ),
        (s.Scope.POLICY, {"alternate_url": "ftp://x.example"}, "alternate_url: 'ftp://x.example' has scheme 'ftp'"),
        (s.Scope.POLICY, {"restart_service": "sometimes"}, "restart_service: 'sometimes' is not one of"),
    ],
)
def test_bad_input_names_the_option_and_what_is_allowed(scope: s.Scope, params: dict[str, t.Any], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        s.build_request(scope, params)
    assert message in str(info.value)


# ------------------------------------------------------------------------------------------------
# Reading: few round trips, only the properties needed
# ------------------------------------------------------------------------------------------------
def test_client_read_is_one_query_plus_the_registry_intervals() -> None:
    fake = FakeHost()
    snapshot = s.read(t.cast(t.Any, fake), s.build_request(s.Scope.CLIENT, {}))
    assert fake.requests == 5  # the query, the pending-restart note, the two intervals, the activation type
    wql = fake.calls[0].params["wql"]
    assert wql == (
        "SELECT Version, IsKeyManagementServiceMachine, KeyManagementServiceMachine, KeyManagementServicePort, "
        "KeyManagementServiceLookupDomain, KeyManagementServiceHostCaching FROM SoftwareLicensingService"
    )
    assert [c.method for c in fake.calls[1:]] == [
        "GetMultiStringValue",
        "GetDWORDValue",
        "GetDWORDValue",
        "GetDWORDValue",
    ]
    assert snapshot.values == {
        "server": None,
        "port": 1688,
        "lookup_domain": None,
        "host_caching": True,
        "activation_type": 0,
        "activation_interval": None,
        "renewal_interval": None,
    }


def test_per_product_read_adds_one_product_query_and_reads_the_per_sku_values() -> None:
    fake = FakeHost(products=[PRODUCT])
    fake.service["KeyManagementServiceMachine"] = "kms-global"
    fake.reg_set(fake.sku_key(PRODUCT), "KeyManagementServiceName", "REG_SZ", "kms-office")
    fake.reg_set(fake.sku_key(PRODUCT), "KeyManagementServicePort", "REG_SZ", "1700")
    request = s.build_request(s.Scope.CLIENT, {"activation_id": PRODUCT.upper()})
    snapshot = s.read(t.cast(t.Any, fake), request)
    service_wql, product_wql = fake.calls[0].params["wql"], fake.calls[1].params["wql"]
    assert service_wql == (
        "SELECT Version, IsKeyManagementServiceMachine, KeyManagementServiceHostCaching FROM SoftwareLicensingService"
    )
    assert product_wql == f"SELECT ID, ApplicationID FROM SoftwareLicensingProduct WHERE ID = '{PRODUCT}'"
    per_sku = [c.params["sValueName"] for c in fake.calls[2:] if c.params["sSubKeyName"] == fake.sku_key(PRODUCT)]
    assert per_sku == [
        "KeyManagementServiceName",
        "KeyManagementServicePort",
        "KeyManagementServiceLookupDomain",
        "VLActivationType",
    ]
    assert fake.requests == 2 + 4 + 3  # + the pending-restart note and the two client interval values
    assert (snapshot.values["server"], snapshot.values["port"], snapshot.values["lookup_domain"]) == (
        "kms-office",
        1700,
        None,
    )


def test_per_product_absent_is_idempotent_while_a_global_name_is_set() -> None:
    fake = FakeHost(products=[PRODUCT])
    fake.service["KeyManagementServiceMachine"] = "kms-global"
    fake.reg_set(fake.sku_key(PRODUCT), "KeyManagementServiceName", "REG_SZ", "kms-office")
    first = run(fake, s.Scope.CLIENT, state="absent", activation_id=PRODUCT)
    assert first["changes"] == ["server"]
    assert fake.writes() == ["SoftwareLicensingProduct.ClearKeyManagementServiceMachine"]
    assert run(fake, s.Scope.CLIENT, state="absent", activation_id=PRODUCT)["changed"] is False
    assert fake.service["KeyManagementServiceMachine"] == "kms-global"


def test_unknown_product_fails_clearly() -> None:
    fake = FakeHost()
    with pytest.raises(ModuleFailure, match=f"activation_id: no product with Activation ID {PRODUCT}"):
        run(fake, s.Scope.CLIENT, activation_id=PRODUCT, server="kms01")
    assert fake.writes() == []


def test_host_read_is_one_query_plus_the_configured_values() -> None:
    # sppsvc reports what it runs with; the registry holds what is configured (read both: a restart may be owed).
    fake = FakeHost(kms_host=True)
    s.read(t.cast(t.Any, fake), s.build_request(s.Scope.HOST, {}))
    assert fake.requests == 8
    assert [c.params["sValueName"] for c in fake.calls[1:]] == [
        "SppsvcRestartPending",  # a restart owed for the publish list, which sppsvc does not report
        "KeyManagementServiceListeningPort",
        "DnsDomainPublishList",
        "DisableDnsPublishing",
        "EnableKmsLowPriority",
        "VLActivationInterval",
        "VLRenewalInterval",
    ]


def test_policy_read_needs_no_licensing_query() -> None:
    fake = FakeHost()
    snapshot = s.read(t.cast(t.Any, fake), s.build_request(s.Scope.POLICY, {}))
    assert fake.requests == 6  # five values and the pending-restart note
    assert all(c.cls == "StdRegProv" for c in fake.calls)
    assert snapshot.values == {
        "alternate_url": None,
        "notifications_disabled": False,
        "manual_activation": False,
        "user_operations": False,
        "skip_rearm": False,
    }


def test_a_value_of_the_wrong_type_reads_as_unset_with_a_warning_and_is_rewritten() -> None:
    fake = FakeHost()
    fake.reg_set(SPP, "VLRenewalInterval", "REG_SZ", "60")
    context = ctx()
    result = run(fake, s.Scope.CLIENT, context, renewal_interval=60)
    assert result["changes"] == ["renewal_interval"]
    assert any("VLRenewalInterval" in w and "REG_DWORD" in w for w in context.warnings)
    assert fake.reg_value(SPP, "VLRenewalInterval") == ("REG_DWORD", 60)


# ------------------------------------------------------------------------------------------------
# Plan and diff
# ------------------------------------------------------------------------------------------------
def test_plan_only_covers_options_given_that_differ() -> None:
    current = {"listening_port": 1688, "dns_publishing": True, "low_priority": False, "dns_publish_domains": ()}
    desired = {"listening_port": 1688, "low_priority": True}
    changes = s.plan(s.Scope.HOST, current, desired)
    assert [(c.option, c.before, c.after) for c in changes] == [("low_priority", False, True)]


def test_plan_compares_semantically() -> None:
    current = {"server": "[FD00:0::1]", "port": 1688, "lookup_domain": "Corp.Example.com."}
    desired = {"server": "[fd00::1]", "port": 1688, "lookup_domain": "corp.example.com"}
    assert s.plan(s.Scope.CLIENT, current, desired) == []


def test_diff_is_human_readable() -> None:
    codec = s.SETTINGS["dns_publish_domains"].codec
    current = {"listening_port": 1688, "dns_publish_domains": codec.from_registry(["east.contoso.com, 10, 75"])}
    desired = {
        "listening_port": 1700,
        "dns_publish_domains": codec.normalise(
            "dns_publish_domains",
            [{"domain": "east.contoso.com", "priority": 10, "weight": 75}, {"domain": "west.contoso.com"}],
        ),
    }
    assert s.diff(s.plan(s.Scope.HOST, current, desired)) == {
        "before": {
            "listening_port": 1688,
            "dns_publish_domains": [{"domain": "east.contoso.com", "priority": 10, "weight": 75}],
        },
        "after": {
            "listening_port": 1700,
            "dns_publish_domains": [
                {"domain": "east.contoso.com", "priority": 10, "weight": 75},
                {"domain": "west.contoso.com", "priority": 0, "weight": 0},
            ],
        },
    }


def test_publish_list_parses_the_documented_entry_forms() -> None:
    codec = s.SETTINGS["dns_publish_domains"].codec
    parsed = codec.from_registry(["east.contoso.com, 10, 75", "west.contoso.com", "north.contoso.com,5", "x, a, 1"])
    assert codec.show(parsed) == [
        {"domain": "east.contoso.com", "priority": 10, "weight": 75},
        {"domain": "west.contoso.com", "priority": 0, "weight": 0},
        {"domain": "north.contoso.com", "priority": 5, "weight": 0},
        {"domain": "x", "priority": "a", "weight": 1},
    ]


# ------------------------------------------------------------------------------------------------
# Execute: check mode, apply, idempotence, restart, failures
# ------------------------------------------------------------------------------------------------
def test_check_mode_reads_only_and_reports_the_plan() -> None:
    fake = FakeHost()
    result = run(fake, s.Scope.CLIENT, ctx(check=True), server="kms01.corp.example.com", renewal_interval=60)
    assert fake.writes() == []
    assert result["changed"] is True
    assert result["changes"] == ["server", "renewal_interval"]
    assert result["restart_required"] is True and result["restarted"] is False
    assert result["settings"]["server"] is None  # still the values in force
    assert result["diff"] == {
        "before": {"server": None, "renewal_interval": None},
        "after": {"server": "kms01.corp.example.com", "renewal_interval": 60},
    }


def test_apply_then_second_run_is_unchanged_without_writes() -> None:
    fake = FakeHost()
    first = run(fake, s.Scope.CLIENT, server="kms01.corp.example.com", port=1700, lookup_domain="corp.example.com")
    assert first["changed"] is True
    assert first["settings"]["server"] == "kms01.corp.example.com" and first["settings"]["port"] == 1700
    assert fake.writes() == [
        "SoftwareLicensingService.SetKeyManagementServiceMachine",
        "SoftwareLicensingService.SetKeyManagementServicePort",
        "SoftwareLicensingService.SetKeyManagementServiceLookupDomain",
    ]
    assert first["restarted"] is False  # none of these needs sppsvc to restart
    writes, requests = fake.writes(), fake.requests
    second = run(fake, s.Scope.CLIENT, server="KMS01.corp.example.com", port=1700, lookup_domain="corp.example.com")
    assert second["changed"] is False and second["changes"] == []
    assert second["diff"] == {"before": {}, "after": {}}
    assert fake.writes() == writes
    # The service query and the pending-restart note: the registry values the task does not give are not read.
    assert fake.requests - requests == 2


def test_server_without_port_clears_a_custom_port() -> None:
    fake = FakeHost()
    fake.service.update(KeyManagementServiceMachine="old", KeyManagementServicePort=1700)
    result = run(fake, s.Scope.CLIENT, server="kms01")
    assert fake.writes()[-1] == "SoftwareLicensingService.ClearKeyManagementServicePort"
    assert result["settings"]["port"] == 1688


def test_absent_goes_back_to_dns_discovery() -> None:
    fake = FakeHost()
    fake.service.update(
        KeyManagementServiceMachine="kms01", KeyManagementServicePort=1700, KeyManagementServiceLookupDomain="x.example"
    )
    result = run(fake, s.Scope.CLIENT, state="absent")
    assert fake.writes() == [
        "SoftwareLicensingService.ClearKeyManagementServiceMachine",
        "SoftwareLicensingService.ClearKeyManagementServicePort",
        "SoftwareLicensingService.ClearKeyManagementServiceLookupDomain",
    ]
    assert result["settings"]["server"] is None and result["settings"]["lookup_domain"] is None
    assert run(fake, s.Scope.CLIENT, state="absent")["changed"] is False


def test_ipv6_server_is_stored_bracketed() -> None:
    fake = FakeHost()
    run(fake, s.Scope.CLIENT, server="fd00:ec2::250")
    assert fake.service["KeyManagementServiceMachine"] == "[fd00:ec2::250]"
    assert run(fake, s.Scope.CLIENT, server="[FD00:EC2:0::250]")["changed"] is False


def test_host_caching_uses_the_inverted_method_argument() -> None:
    fake = FakeHost()
    result = run(fake, s.Scope.CLIENT, host_caching=False)
    setter = next(c for c in fake.calls if c.method == "DisableKeyManagementServiceHostCaching")
    assert setter.params == {"DisableCaching": True}
    assert fake.service["KeyManagementServiceHostCaching"] is False
    assert result["settings"]["host_caching"] is False


def test_per_product_writes_go_to_the_product() -> None:
    fake = FakeHost(products=[PRODUCT])
    result = run(fake, s.Scope.CLIENT, server="kms-office", activation_id=PRODUCT)
    setter = next(c for c in fake.calls if c.method == "SetKeyManagementServiceMachine")
    assert (setter.cls, setter.selectors) == ("SoftwareLicensingProduct", {"ID": PRODUCT})
    assert fake.service["KeyManagementServiceMachine"] is None
    assert fake.reg_value(fake.sku_key(PRODUCT), "KeyManagementServiceName") == ("REG_SZ", "kms-office")
    assert result["activation_id"] == PRODUCT
    assert result["settings"]["server"] == "kms-office"


def test_client_intervals_are_registry_values_even_on_a_client() -> None:
    fake = FakeHost()
    result = run(fake, s.Scope.CLIENT, activation_interval=60, renewal_interval=4320)
    assert fake.reg_value(SPP, "VLActivationInterval") == ("REG_DWORD", 60)
    assert fake.reg_value(SPP, "VLRenewalInterval") == ("REG_DWORD", 4320)
    assert result["restart_required"] is True and result["restarted"] is True
    assert fake.writes()[:3] == list(NOTE_FIRST_TIME)  # noted before the intervals are written
    assert fake.writes()[-3:] == ["Win32_Service.StopService", "Win32_Service.StartService", "StdRegProv.DeleteValue"]


def test_host_settings_in_safe_order_with_restart() -> None:
    fake = FakeHost(kms_host=True)
    result = run(
        fake,
        s.Scope.HOST,
        renewal_interval=4320,
        dns_publishing=False,
        dns_publish_domains=[{"domain": "east.contoso.com", "priority": 10, "weight": 75}],
        listening_port=1700,
        low_priority=True,
    )
    assert result["changes"] == [
        "listening_port",
        "dns_publish_domains",
        "dns_publishing",
        "low_priority",
        "renewal_interval",
    ]
    assert fake.writes() == [
        *NOTE_FIRST_TIME,  # the pending-restart note, before the publish list
        "SoftwareLicensingService.SetKeyManagementServiceListeningPort",
        "StdRegProv.SetMultiStringValue",
        "SoftwareLicensingService.DisableKeyManagementServiceDnsPublishing",
        "SoftwareLicensingService.EnableKeyManagementServiceLowPriority",
        "SoftwareLicensingService.SetVLRenewalInterval",
        "Win32_Service.StopService",
        "Win32_Service.StartService",
        "StdRegProv.DeleteValue",  # restarted: nothing owed any more
    ]
    assert fake.reg_value(SPP, "DnsDomainPublishList") == ("REG_MULTI_SZ", ["east.contoso.com, 10, 75"])
    assert result["restarted"] is True
    assert result["settings"]["dns_publishing"] is False and result["settings"]["listening_port"] == 1700


def test_default_listening_port_and_empty_publish_list_clear() -> None:
    fake = FakeHost(kms_host=True)
    fake.reg_set(SPP, "KeyManagementServiceListeningPort", "REG_SZ", "1700")
    fake.reg_set(SPP, "DnsDomainPublishList", "REG_MULTI_SZ", ["east.contoso.com, 0, 0"])
    run(fake, s.Scope.HOST, listening_port=1688, dns_publish_domains=[], restart_service="never")
    assert fake.writes() == [
        *NOTE_FIRST_TIME,  # the publish list will need a restart: noted first
        "SoftwareLicensingService.ClearKeyManagementServiceListeningPort",
        "StdRegProv.DeleteValue",
    ]
    assert fake.reg_value(SPP, "DnsDomainPublishList") is None


@pytest.mark.parametrize(
    ("choice", "params", "restarted", "required"),
    [
        ("auto", {"listening_port": 1700}, True, True),
        ("never", {"listening_port": 1700}, False, True),
        ("always", {"alternate_url": "https://help.contoso.com"}, True, False),
        ("auto", {"alternate_url": "https://help.contoso.com"}, False, False),
    ],
)
def test_restart_choices(choice: str, params: dict[str, t.Any], restarted: bool, required: bool) -> None:
    fake = FakeHost(kms_host=True)
    scope = s.Scope.HOST if "listening_port" in params else s.Scope.POLICY
    result = run(fake, scope, restart_service=choice, **params)
    assert result["restarted"] is restarted
    assert result["restart_required"] is required
    assert ("Win32_Service.StopService" in fake.writes()) is restarted


def test_no_restart_when_nothing_changed_even_with_always() -> None:
    fake = FakeHost(kms_host=True)
    result = run(fake, s.Scope.HOST, listening_port=1688, restart_service="always")
    assert result["changed"] is False and result["restarted"] is False and fake.writes() == []


def test_host_only_settings_fail_on_a_client_before_any_write_even_in_check_mode() -> None:
    for check in (True, False):
        fake = FakeHost(kms_host=False)
        with pytest.raises(ModuleFailure) as info:
            run(fake, s.Scope.HOST, ctx(check=check), listening_port=1700, low_priority=True, dns_publish_domains=[])
        assert "not a KMS host" in info.value.msg
        assert "listening_port, low_priority" in info.value.msg
        assert info.value.detail["not_kms_host"] == ["listening_port", "low_priority"]
        assert fake.writes() == []


def test_registry_only_host_setting_on_a_client_warns() -> None:
    fake = FakeHost(kms_host=False)
    context = ctx()
    result = run(fake, s.Scope.HOST, context, dns_publish_domains=[{"domain": "east.contoso.com"}])
    assert result["changed"] is True
    assert any("not a KMS host yet" in w for w in context.warnings)


def test_policy_switches_write_1_and_remove_when_off() -> None:
    fake = FakeHost()
    result = run(fake, s.Scope.POLICY, skip_rearm=True, manual_activation=True, alternate_url="http://contoso.com/help")
    assert fake.reg_value(SPP, "SkipRearm") == ("REG_DWORD", 1)
    assert fake.reg_value(SPP + r"\Activation", "Manual") == ("REG_DWORD", 1)
    assert fake.reg_value(SPP + r"\Activation", "AlternateURL") == ("REG_SZ", "http://contoso.com/help")
    assert result["restarted"] is True  # Manual needs a restart
    result = run(fake, s.Scope.POLICY, skip_rearm=False, alternate_url="")
    assert result["changes"] == ["alternate_url", "skip_rearm"]
    assert fake.reg_value(SPP, "SkipRearm") is None
    assert fake.reg_value(SPP + r"\Activation", "AlternateURL") is None
    assert result["settings"]["skip_rearm"] is False and result["settings"]["alternate_url"] is None


def test_lookup_domain_with_a_server_warns_that_the_name_wins() -> None:
    fake = FakeHost()
    fake.service["KeyManagementServiceMachine"] = "kms01"
    context = ctx()
    run(fake, s.Scope.CLIENT, context, lookup_domain="corp.example.com")
    assert any("takes precedence" in w for w in context.warnings)


def test_a_fault_part_way_reports_what_was_applied_and_a_rerun_converges() -> None:
    fake = FakeHost(kms_host=True)
    fake.failures[13] = WSManFault(
        "Generic failure", hresult=0xC004F074
    )  # query, 7 registry reads, the pending-restart note (3), first write ok; the second write faults
    context = ctx()
    with pytest.raises(ModuleFailure) as info:
        run(fake, s.Scope.HOST, context, listening_port=1700, dns_publish_domains=[{"domain": "east.contoso.com"}])
    assert context.applied == ["listening_port"]
    assert info.value.detail["restart_required"] is True  # the applied port still awaits an sppsvc restart
    assert "dns_publish_domains" in info.value.msg
    assert info.value.detail["setting"] == "dns_publish_domains"
    assert info.value.detail["error"]["hresult"] == "0xC004F074"
    assert {key: info.value.detail["error"][key] for key in ERROR_KEYS} == explain(0xC004F074).to_dict()
    fake.failures.clear()
    result = run(fake, s.Scope.HOST, listening_port=1700, dns_publish_domains=[{"domain": "east.contoso.com"}])
    assert result["changes"] == ["dns_publish_domains"]


def test_connection_lost_after_a_write_becomes_a_failure_with_applied() -> None:
    fake = FakeHost()
    fake.failures[4] = WSManUnreachable("connection reset by peer")  # query, note, first write; then it drops
    context = ctx()
    with pytest.raises(ModuleFailure, match="connection reset"):
        run(fake, s.Scope.CLIENT, context, server="kms01", port=1700)
    assert context.applied == ["server"]


def test_a_port_fault_right_after_the_name_restores_the_previous_name() -> None:
    fake = FakeHost()
    fake.service["KeyManagementServiceMachine"] = "old-kms.example.com"
    fake.failures[4] = WSManFault("Generic failure", hresult=0x80070057)  # query, note, name; then port
    context = ctx()
    with pytest.raises(ModuleFailure, match="restored to old-kms.example.com, as slmgr does") as info:
        run(fake, s.Scope.CLIENT, context, server="kms01", port=1700)
    assert context.applied == []
    assert info.value.detail["setting"] == "port"
    set_names = [c.params["MachineName"] for c in fake.calls if c.method == "SetKeyManagementServiceMachine"]
    assert set_names == ["kms01", "old-kms.example.com"]


def lose_answer(fake: FakeHost, method: str, error: Exception) -> None:
    """The host runs ``method``, then its answer is lost (or times out, or arrives corrupt)."""
    original = fake.invoke

    def invoke(cls: str, called: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        out = original(cls, called, *args, **kwargs)
        if called == method:
            raise error
        return out

    fake.invoke = invoke  # type: ignore[method-assign,assignment]


@pytest.mark.parametrize(
    "error",
    [
        WSManTimeout("The WS-Management service cannot complete the operation within the time"),
        WSManProtocolError("malformed XML in the response"),
        WSManUnreachable("connection reset by peer"),
    ],
    ids=["timeout", "corrupt", "lost"],
)
def test_a_port_call_that_may_have_run_is_re_read_not_undone(error: Exception) -> None:
    # slmgr restores the name only when the port call failed; one that may have run is settled by re-reading.
    fake = FakeHost()
    fake.service["KeyManagementServiceMachine"] = "old-kms.example.com"
    lose_answer(fake, "SetKeyManagementServicePort", error)
    context = ctx()
    with pytest.raises(ModuleFailure, match="the host holds the new value, so it was applied") as info:
        run(fake, s.Scope.CLIENT, context, server="kms01", port=1700)
    assert context.applied == ["server", "port"] and context.may_have_applied == []
    assert "restored" not in info.value.msg
    assert (fake.service["KeyManagementServiceMachine"], fake.service["KeyManagementServicePort"]) == ("kms01", 1700)
    assert run(fake, s.Scope.CLIENT, server="kms01", port=1700)["changed"] is False


def test_a_restart_owed_by_an_earlier_run_is_made_by_the_rerun() -> None:
    # The first run writes the port but never restarts; sppsvc keeps running with 1688.
    fake = FakeHost(kms_host=True)
    first = run(fake, s.Scope.HOST, listening_port=1700, restart_service="never")
    assert first["changed"] is True and first["restart_required"] is True and first["restarted"] is False
    assert fake.running is not None and fake.running["KeyManagementServiceListeningPort"] == 0
    again = run(fake, s.Scope.HOST, listening_port=1700)
    assert again["changes"] == [] and again["restart_owed"] == ["listening_port"]
    assert again["changed"] is True and again["restarted"] is True
    assert fake.running["KeyManagementServiceListeningPort"] == 1700
    third = run(fake, s.Scope.HOST, listening_port=1700)
    assert (third["changed"], third["restart_required"], third["restarted"]) == (False, False, False)


def test_a_restart_owed_shows_in_check_mode_without_a_write() -> None:
    fake = FakeHost(kms_host=True)
    run(fake, s.Scope.HOST, low_priority=True, restart_service="never")
    writes = len(fake.writes())
    result = run(fake, s.Scope.HOST, ctx(check=True), low_priority=True)
    assert result["changed"] is True and result["restart_owed"] == ["low_priority"]
    assert len(fake.writes()) == writes


def test_a_failed_restart_leaves_the_restart_owed_for_the_rerun() -> None:
    fake = FakeHost(kms_host=True)
    fake.services["sppsvc"]["StartMode"] = "Disabled"
    with pytest.raises(ModuleFailure) as info:
        run(fake, s.Scope.HOST, listening_port=1700)
    assert info.value.detail["restart_required"] is True
    fake.services["sppsvc"].update(StartMode="Manual", State="Running")
    rerun = run(fake, s.Scope.HOST, listening_port=1700)
    assert rerun["restarted"] is True and rerun["changes"] == []


def test_a_policy_restart_cut_short_is_remembered_on_the_host() -> None:
    # sppsvc does not report UserOperations' running value: the host keeps a note until sppsvc restarted.
    fake = FakeHost()
    fake.services["sppsvc"]["StartMode"] = "Disabled"
    with pytest.raises(ModuleFailure):
        run(fake, s.Scope.POLICY, user_operations=True)
    assert fake.reg_value(s.PENDING_KEY, s.PENDING_VALUE) == ("REG_MULTI_SZ", ["user_operations"])
    fake.services["sppsvc"].update(StartMode="Manual", State="Running")
    rerun = run(fake, s.Scope.POLICY, user_operations=True)
    assert rerun["changes"] == [] and rerun["restart_owed"] == ["user_operations"] and rerun["restarted"] is True
    assert fake.reg_value(s.PENDING_KEY, s.PENDING_VALUE) is None
    assert run(fake, s.Scope.POLICY, user_operations=True)["changed"] is False


def test_a_client_interval_written_without_restart_is_owed() -> None:
    fake = FakeHost()
    run(fake, s.Scope.CLIENT, activation_interval=60, restart_service="never")
    assert run(fake, s.Scope.CLIENT, activation_interval=60)["restart_owed"] == ["activation_interval"]


def test_a_port_fault_after_a_fresh_name_clears_it_again() -> None:
    fake = FakeHost()
    fake.failures[4] = WSManFault("Generic failure", hresult=0x80070057)
    context = ctx()
    with pytest.raises(ModuleFailure, match=r"restored to none \(DNS auto-discovery\)"):
        run(fake, s.Scope.CLIENT, context, server="kms01", port=1700)
    assert context.applied == []
    assert [c.method for c in fake.calls if (c.method or "").endswith("KeyManagementServiceMachine")] == [
        "SetKeyManagementServiceMachine",
        "ClearKeyManagementServiceMachine",
    ]


def test_a_task_reads_only_the_registry_values_it_manages() -> None:
    fake = FakeHost()
    request = s.build_request(s.Scope.POLICY, {"alternate_url": "https://help.contoso.com/activation"})
    snapshot = s.read(t.cast(t.Any, fake), request)
    assert [c.params.get("sValueName") for c in fake.calls] == ["SppsvcRestartPending", "AlternateURL"]
    assert set(snapshot.values) == {"alternate_url"}
    assert set(s.shown(s.Scope.POLICY, snapshot.values)) == {"alternate_url"}
    everything = s.read(t.cast(t.Any, fake), s.build_request(s.Scope.POLICY, {}))
    assert set(everything.values) == {setting.option for setting in s.view(s.Scope.POLICY)}


def test_connection_refused_before_any_write_stays_unreachable() -> None:
    fake = FakeHost()
    fake.failures[3] = WSManUnreachable("connection refused", sent=False)
    with pytest.raises(WSManUnreachable):
        run(fake, s.Scope.CLIENT, server="kms01")


def test_a_first_write_whose_answer_is_lost_may_have_been_applied() -> None:
    # The request reached the host: it may have run. Never "unreachable, changed: false".
    fake = FakeHost()
    fake.failures[3] = WSManUnreachable("connection reset by peer")
    fake.failures[4] = WSManUnreachable("connection refused", sent=False)  # and the re-read cannot connect
    context = ctx()
    with pytest.raises(ModuleFailure, match="could not be re-read") as info:
        run(fake, s.Scope.CLIENT, context, server="kms01")
    assert context.may_have_applied == ["server"] and context.applied == []
    assert info.value.detail["setting"] == "server"


def test_a_lost_answer_is_settled_by_re_reading_the_host() -> None:
    fake = FakeHost()

    class ExecutedThenLost(WSManUnreachable):
        pass

    original = fake.invoke

    def invoke(cls: str, method: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        out = original(cls, method, *args, **kwargs)
        if method == "SetKeyManagementServiceMachine":
            raise ExecutedThenLost("connection reset by peer")  # the host ran it; the answer was lost
        return out

    fake.invoke = invoke  # type: ignore[method-assign,assignment]
    context = ctx()
    with pytest.raises(ModuleFailure, match="the host holds the new value, so it was applied"):
        run(fake, s.Scope.CLIENT, context, server="kms01")
    assert context.applied == ["server"] and context.may_have_applied == []


def test_a_nonzero_return_value_fails_with_the_hresult() -> None:
    fake = FakeHost()
    fake.return_values["SetKeyManagementServiceMachine"] = 0xC004F074
    with pytest.raises(ModuleFailure) as info:
        run(fake, s.Scope.CLIENT, server="kms01")
    assert "0xC004F074" in info.value.msg
    assert info.value.detail["error"]["method"] == "SoftwareLicensingService.SetKeyManagementServiceMachine"


def test_sppsvc_restart_failure_is_explained() -> None:
    fake = FakeHost(kms_host=True)
    fake.services["sppsvc"]["StartMode"] = "Disabled"
    context = ctx()
    with pytest.raises(ModuleFailure, match="Restarting sppsvc failed: sppsvc is disabled") as info:
        run(fake, s.Scope.HOST, context, low_priority=True)
    assert context.applied == ["low_priority"]
    assert info.value.detail["restart_required"] is True and info.value.detail["restarted"] is False


def test_no_diff_key_without_diff_mode() -> None:
    result = run(FakeHost(), s.Scope.POLICY, ctx(diff=False), skip_rearm=True)
    assert "diff" not in result


# ------------------------------------------------------------------------------------------------
# The action plugins: validation before any I/O, results through the base class
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("module", "args", "message"),
    [
        ("kms_client", {"port": 0}, "port: 0 is out of range; expected 1-65535"),
        ("kms_client", {"server": "kms01", "state": "absent"}, "server: cannot be used with state=absent"),
        ("kms_host", {"renewal_interval": 43201}, "renewal_interval: 43201 is out of range"),
        ("activation_policy", {"alternate_url": "ftp://x.example"}, "alternate_url: 'ftp://x.example' has scheme"),
        ("kms_client", {"servr": "kms01"}, "Unsupported parameters"),
        ("kms_host", {"listening_port": "abc"}, "listening_port"),
        ("kms_client", {"state": "gone"}, "state"),
    ],
)
def test_bad_arguments_fail_before_the_connection_is_used(
    monkeypatch: pytest.MonkeyPatch, module: str, args: dict[str, t.Any], message: str
) -> None:
    result, seam = run_action(monkeypatch, module, args, None)
    assert result["failed"] is True and result["changed"] is False
    assert message in result["msg"]
    assert seam.opened == []


def test_action_runs_the_table_over_the_task_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeHost(kms_host=True)
    result, seam = run_action(monkeypatch, "kms_host", {"listening_port": 1700}, fake, check=True, diff=True)
    assert result["changed"] is True and fake.writes() == []
    assert result["diff"] == {"before": {"listening_port": 1688}, "after": {"listening_port": 1700}}
    assert len(seam.opened) == 1
    result, _seam = run_action(monkeypatch, "kms_host", {"listening_port": 1700}, fake)
    assert result["changed"] is True and result["restarted"] is True
    assert result["settings"]["listening_port"] == 1700


def test_action_failure_reports_applied(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeHost()
    fake.failures[4] = WSManUnreachable("connection reset by peer")
    result, _seam = run_action(monkeypatch, "kms_client", {"server": "kms01", "port": 1700}, fake)
    assert result["failed"] is True and result["changed"] is True
    assert result["applied"] == ["server"]
    assert "already applied before the failure: server" in result["msg"]
    assert set(ERROR_KEYS) <= set(result["error"]) and result["error"]["wsman"]["type"] == "WSManUnreachable"


@pytest.mark.parametrize(
    ("module", "args", "changes"),
    [
        ("kms_client", {"server": "kms01.corp.example.com", "renewal_interval": 60}, ["server", "renewal_interval"]),
        ("kms_host", {"low_priority": True}, ["low_priority"]),
        ("activation_policy", {"skip_rearm": True, "alternate_url": "https://help.contoso.com"}, None),
    ],
)
def test_each_settings_action_in_check_mode_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, module: str, args: dict[str, t.Any], changes: list[str] | None
) -> None:
    fake = FakeHost(kms_host=True)
    result, _seam = run_action(monkeypatch, module, args, fake, check=True, diff=True)
    assert result["changed"] is True and "failed" not in result
    assert fake.writes() == [] and result["restarted"] is False
    assert sorted(result["changes"]) == sorted(changes or args)
    assert sorted(result["diff"]["after"]) == sorted(changes or args)


def test_kms_host_action_on_a_client_fails_before_any_write(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeHost(kms_host=False)
    result, _seam = run_action(monkeypatch, "kms_host", {"listening_port": 1700}, fake, check=True)
    assert result["failed"] is True and result["changed"] is False and "applied" not in result
    assert result["not_kms_host"] == ["listening_port"]
    assert set(ERROR_KEYS) <= set(result["error"]) and result["error"]["message"] == result["msg"]
    assert fake.writes() == []


def test_activation_policy_action_registry_failure_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeHost()
    fake.return_values["SetDWORDValue"] = 5  # ERROR_ACCESS_DENIED on the key
    result, _seam = run_action(monkeypatch, "activation_policy", {"skip_rearm": True}, fake)
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("Setting skip_rearm failed: Registry SetDWORDValue on HKLM\\")
    assert result["setting"] == "skip_rearm" and result["restart_required"] is False
    assert result["error"]["method"] == "StdRegProv.SetDWORDValue" and result["error"]["return_value"] == 5


def test_activation_type_sets_clears_and_scopes_to_a_product() -> None:
    fake = FakeHost(products=[PRODUCT])
    result = run(fake, s.Scope.CLIENT, activation_type="kms")
    setter = next(c for c in fake.calls if c.method == "SetVLActivationTypeEnabled")
    assert (setter.cls, setter.params) == ("SoftwareLicensingService", {"ActivationType": 2})
    assert result["settings"]["activation_type"] == "kms"
    assert run(fake, s.Scope.CLIENT, activation_type="kms")["changed"] is False

    per_product = run(fake, s.Scope.CLIENT, activation_type="ad", activation_id=PRODUCT)
    assert per_product["changes"] == ["activation_type"]
    assert fake.reg_value(fake.sku_key(PRODUCT), "VLActivationType") == ("REG_DWORD", 1)

    run(fake, s.Scope.CLIENT, activation_type="all")
    assert fake.invoked("ClearVLActivationTypeEnabled")
    assert fake.reg_value(SPP, "VLActivationType") is None


def test_activation_type_reads_unknown_values_as_all() -> None:
    codec = s.SETTINGS["activation_type"].codec
    assert [codec.show(codec.from_registry(raw)) for raw in (None, 0, 2, 7)] == ["all", "all", "kms", "all"]
    with pytest.raises(ValidationError, match="activation_type: 'kms-only' is not one of all, ad, kms, token"):
        codec.normalise("activation_type", "kms-only")
