"""The KMS protocol between emulated machines: client discovery and activation, host-side handling.

Client: pick hosts in the order of "KMS discovery search order" (Volume Activation Technical Reference,
Windows 7), send requests over the fleet network, log 12288/12289 (its "Windows Event Log" table).
Host: check clock skew, activation and CSVLK coverage ("Troubleshoot activation error codes", "KMS
activation planning"), count CMIDs, answer, log 12290.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import typing as t

from . import editions as ed
from .cim import ProviderError
from .events import hresult_hex

if t.TYPE_CHECKING:
    from .machine import Machine
    from .spp import Licensing
    from .spp_products import Product

# --- HRESULTs ("Troubleshoot activation error codes") -------------------------------------------------

SL_E_VL_BINDING_SERVICE_UNAVAILABLE = 0xC004F074
SL_E_VL_NOT_ENOUGH_COUNT = 0xC004F038
SL_E_VL_KMS_NOT_ACTIVATED = 0xC004F041
SL_E_VL_KMS_ID_MISMATCH = 0xC004F042
SL_E_VL_INVALID_TIMESTAMP = 0xC004F06C
DNS_ERROR_RCODE_NAME_ERROR = 0x8007232B
RPC_S_SERVER_UNAVAILABLE = 0x800706BA

# --- policy ("KMS activation planning", "KMS troubleshooting") ----------------------------------------

MAX_CLOCK_SKEW = datetime.timedelta(hours=4)  # 0xC004F06C beyond it, compared in UTC (error 0xC004F074 article)
COUNT_CEILING = 50
COUNT_WINDOW = datetime.timedelta(days=30)  # CMIDs of the past 30 days
DEFAULT_KMS_PORT = 1688
DEFAULT_ACTIVATION_INTERVAL = 120
DEFAULT_RENEWAL_INTERVAL = 10080
INTERVAL_RANGE = range(15, 43201)  # 15 minutes to 30 days (SoftwareLicensingService documentation)

COUNTER_NAMES = ("Total", "Failed", "Unlicensed", "Licensed", "OOBGrace", "OOTGrace", "NonGenuineGrace", "Notification")
# Request counters by the client's LicenseStatus (values 0-5 of SoftwareLicensingProduct).
_COUNTER_BY_STATUS = {
    0: "Unlicensed",
    1: "Licensed",
    2: "OOBGrace",
    3: "OOTGrace",
    4: "NonGenuineGrace",
    5: "Notification",
}


@dataclasses.dataclass(frozen=True)
class KmsEffective:
    """KMS host settings as sppsvc read them at its last start (they need a restart: "Deploying KMS activation")."""

    kms_enabled: bool
    listening_port: int
    dns_publishing: bool
    low_priority: bool
    activation_interval: int
    renewal_interval: int
    publish_list: tuple[tuple[str, int, int], ...]
    user_operations: bool
    started_at: datetime.datetime

    def as_json(self) -> dict[str, t.Any]:
        return {
            "kms_enabled": self.kms_enabled,
            "listening_port": self.listening_port,
            "dns_publishing": self.dns_publishing,
            "low_priority": self.low_priority,
            "activation_interval": self.activation_interval,
            "renewal_interval": self.renewal_interval,
            "publish_domains": [{"domain": d, "priority": p, "weight": w} for d, p, w in self.publish_list],
            "user_operations": self.user_operations,
            "started_at": self.started_at.isoformat(),
        }


@dataclasses.dataclass(frozen=True)
class KmsRequest:
    client_name: str
    cmid: str
    client_time: datetime.datetime
    license_status: int
    minutes_left: int
    activation_id: str
    edition: ed.Edition | None  # None: not a Windows product (Office)
    n_policy: int
    office_version: str | None = None  # an Office SKU's version: served by the host's Office KMS host key


@dataclasses.dataclass(frozen=True)
class KmsResponse:
    hresult: int
    count: int = 0
    activation_interval: int = DEFAULT_ACTIVATION_INTERVAL
    renewal_interval: int = DEFAULT_RENEWAL_INTERVAL
    epid: str = ""


@dataclasses.dataclass
class KmsHostState:
    """What a KMS host remembers about its clients ("KMS activation planning")."""

    extra_count: int = 0
    reachable: bool = True
    clients: collections.OrderedDict[str, datetime.datetime] = dataclasses.field(
        default_factory=collections.OrderedDict
    )
    counters: dict[str, int] = dataclasses.field(default_factory=lambda: dict.fromkeys(COUNTER_NAMES, 0))

    def current_count(self, now: datetime.datetime) -> int:
        for cmid, seen in list(self.clients.items()):
            if now - seen > COUNT_WINDOW:
                del self.clients[cmid]
        return min(COUNT_CEILING, len(self.clients) + self.extra_count)

    def record(self, cmid: str, now: datetime.datetime) -> None:
        self.clients.pop(cmid, None)
        self.clients[cmid] = now
        while len(self.clients) > COUNT_CEILING:  # the 50 most recent contacts are kept
            self.clients.popitem(last=False)


@dataclasses.dataclass(frozen=True)
class Candidate:
    name: str
    port: int
    source: str  # "registered" | "cached" | "dns"


def parse_port(text: str | None) -> int:
    """A port stored as REG_SZ ("Registry settings for volume activation"); 0 when absent or not a port."""
    if text is None or not text.strip().isdigit():
        return 0
    value = int(text.strip())
    return value if 0 < value <= 0xFFFF else 0


def parse_publish_list(entries: t.Iterable[str]) -> tuple[tuple[str, int, int], ...]:
    """DnsDomainPublishList entries "domain, priority, weight"; missing numbers are 0.

    The format is that of "Registry settings for volume activation".
    """
    parsed = []
    for entry in entries:
        parts = [part.strip() for part in entry.split(",")]
        if not parts[0]:
            continue
        numbers = [int(part) if part.isdigit() else 0 for part in parts[1:3]]
        numbers += [0] * (2 - len(numbers))
        parsed.append((parts[0].rstrip(".").lower(), numbers[0], numbers[1]))
    return tuple(parsed)


# --- client side -------------------------------------------------------------------------------------


def candidates(lic: Licensing, product: Product) -> list[Candidate]:
    """KMS hosts to try, in the "KMS discovery search order": registered (SKU, AppID, global), cached, DNS."""
    name, port = lic.registered_kms(product)
    if name:
        # Assumption: a registered KMS is the only one tried (no fallback to DNS).
        return [Candidate(name, port or DEFAULT_KMS_PORT, "registered")]
    found: list[Candidate] = []
    if lic.host_caching() and product.cached_host is not None:
        found.append(Candidate(*product.cached_host, "cached"))
    domain = lic.lookup_domain(product) or lic.machine.domain
    for record in lic.machine.network.srv_records(domain):
        if all((c.name.lower(), c.port) != (record.target.lower(), record.port) for c in found):
            found.append(Candidate(record.target, record.port, "dns"))
    return found


def activate(lic: Licensing, product: Product) -> None:
    """SoftwareLicensingProduct.Activate on a KMS-client (GVLK) product."""
    kind = lic.activation_type(product)
    if kind in (1, 3):
        # Assumption: AD-only or token-only activation never contacts a KMS; neither is emulated.
        raise ProviderError(SL_E_VL_BINDING_SERVICE_UNAVAILABLE, f"Activation type {kind} allows no KMS activation")
    hosts = candidates(lic, product)
    if not hosts:
        raise ProviderError(DNS_ERROR_RCODE_NAME_ERROR, "DNS name does not exist (no _vlmcs._tcp SRV record)")
    machine = lic.machine
    response_error: int | None = None
    for candidate in hosts:
        now = machine.now()
        status, _status_reason, minutes = product.effective(now)
        request = KmsRequest(
            client_name=machine.fqdn,
            cmid=lic.cmid,
            client_time=now,
            license_status=status,
            minutes_left=minutes,
            activation_id=product.id,
            edition=product.edition if product.is_windows else None,
            n_policy=product.n_policy,
            office_version=product.office_version,
        )
        host, result = machine.network.send_kms_request(machine, candidate.name, candidate.port, request)
        hresult = result if isinstance(result, int) else result.hresult
        machine.events.request_sent(
            hresult=hresult,
            server=f"{candidate.name}:{candidate.port}",
            cmid=lic.cmid,
            when=now,
            license_status=status,
            minutes_left=minutes,
            activation_id=product.id,
            n_policy=product.n_policy,
        )
        if isinstance(result, int) or host is None or hresult == SL_E_VL_INVALID_TIMESTAMP:
            # No usable answer: 12288 without 12289 ("KMS troubleshooting"). With skew slmgr shows 0xC004F074
            # and 12288 carries 0xC004F06C (error 0xC004F074 article).
            continue
        machine.events.response_processed(
            hresult=hresult,
            bound=hresult == 0,
            count=result.count,
            activation_interval=result.activation_interval,
            renewal_interval=result.renewal_interval,
            when=now,
        )
        if hresult == 0:
            lic.kms_activated(product, candidate, host, result)
            return
        if hresult == SL_E_VL_NOT_ENOUGH_COUNT:
            raise ProviderError(hresult, "The count reported by your KMS is insufficient")
        # "KMS discovery search order": the client tries each host until an activated KMS with the right key
        # answers.
        response_error = hresult
    if response_error is not None:
        raise ProviderError(response_error, f"The KMS refused the request ({hresult_hex(response_error)})")
    raise ProviderError(SL_E_VL_BINDING_SERVICE_UNAVAILABLE, "No Key Management Service (KMS) could be contacted")


# --- host side ---------------------------------------------------------------------------------------


def publications(lic: Licensing) -> list[tuple[str, int, int, int]]:
    """(domain, priority, weight, port) SRV records this host has published ("KMS and DNS troubleshooting").

    Records persist while sppsvc is stopped, like real DNS records that nobody scavenged.
    """
    eff = lic.effective
    if eff is None or not eff.kms_enabled or not eff.dns_publishing or not lic.host_activated():
        return []
    records = {lic.machine.domain.lower(): (0, 0)}  # own domain, priority 0 weight 0 ("KMS troubleshooting")
    for domain, priority, weight in eff.publish_list:
        records[domain] = (priority, weight)
    return [(domain, priority, weight, eff.listening_port) for domain, (priority, weight) in records.items()]


def serve(lic: Licensing, request: KmsRequest) -> KmsResponse:
    """Validate, count, answer and log 12290."""
    machine: Machine = lic.machine
    now = machine.now()
    eff = lic.effective
    if eff is None:
        raise RuntimeError("a KMS host answered before sppsvc started")
    office_request = request.office_version is not None
    state = lic.office_host if office_request else lic.host
    state.counters["Total"] += 1
    count = state.current_count(now)
    host_product = lic.host_product()
    group = ed.CSVLK_GROUPS.get(host_product.csvlk_group or "") if host_product is not None else None
    # An Office client needs the host's Office KMS host key of its own version: "install the Office Volume License
    # Pack for each version ... and activate a KMS host key for each version of Office" ("Configure a KMS host
    # computer for Office").
    # Assumption: the other Microsoft sentence, that one KMS host key activates all volume licensed versions, is
    # not followed; a host key activates its own version only.
    office_host = lic.office_host_product(request.office_version) if request.office_version else None
    if abs(request.client_time - now) > MAX_CLOCK_SKEW:
        hresult = SL_E_VL_INVALID_TIMESTAMP
    elif office_request and office_host is None:
        hresult = SL_E_VL_KMS_ID_MISMATCH
    elif (office_host.effective(now)[0] != 1) if office_host is not None else not lic.host_activated():
        hresult = SL_E_VL_KMS_NOT_ACTIVATED
    elif not office_request and (group is None or request.edition is None or not group.covers(request.edition)):
        # The CSVLK coverage table of "KMS activation planning"; the host logs 0xC004F042 for a product it
        # cannot activate (error 0xC004F015 article).
        hresult = SL_E_VL_KMS_ID_MISMATCH
    else:
        # Every valid request is counted, including those answered "not enough count": that is how the count
        # builds up to the threshold ("KMS activation planning").
        state.record(request.cmid, now)
        count = state.current_count(now)
        state.counters[_COUNTER_BY_STATUS.get(request.license_status, "Unlicensed")] += 1
        hresult = 0 if count >= request.n_policy else SL_E_VL_NOT_ENOUGH_COUNT
    if hresult not in (0, SL_E_VL_NOT_ENOUGH_COUNT):
        state.counters["Failed"] += 1
    machine.events.request_processed(
        hresult=hresult,
        min_count=request.n_policy,
        client_name=request.client_name,
        cmid=request.cmid,
        client_when=request.client_time,
        license_status=request.license_status,
        minutes_left=request.minutes_left,
        activation_id=request.activation_id,
        when=now,
    )
    return KmsResponse(
        hresult=hresult,
        count=count,
        activation_interval=eff.activation_interval,
        renewal_interval=eff.renewal_interval,
        epid=lic.epid() if hresult == 0 else "",
    )
