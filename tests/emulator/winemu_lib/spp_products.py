"""What a machine's licensing is made of: its SKUs (products) with their keys and license status, the
fleet's fabricated keys, and which SKU a key installs on.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import typing as t

from . import editions as ed
from . import office as off
from .cim import ProviderError

if t.TYPE_CHECKING:
    from .adba import ActivationObject

# --- HRESULTs (Troubleshoot activation error codes; slerror.h) ----------------------------------------

SL_E_INVALID_PRODUCT_KEY = 0xC004F050
SL_E_MISMATCHED_PRODUCT_SKU = 0xC004F069
SL_E_PKEY_NOT_INSTALLED = 0xC004F014
SL_E_GRACE_TIME_EXPIRED = 0xC004F009
# Assumption: SL_I_OOB_GRACE_PERIOD / SL_I_OOT_GRACE_PERIOD (slerror.h) as LicenseStatusReason in grace.
SL_I_OOB_GRACE_PERIOD = 0x4004F00C
SL_I_OOT_GRACE_PERIOD = 0x4004F00D

# --- policy values ("KMS activation planning" unless marked) ------------------------------------------

UNLICENSED, LICENSED, OOB_GRACE, OOT_GRACE, NON_GENUINE_GRACE, NOTIFICATION = 0, 1, 2, 3, 4, 5
STATUS_NAMES = {
    "unlicensed": UNLICENSED,
    "licensed": LICENSED,
    "oob_grace": OOB_GRACE,
    "oot_grace": OOT_GRACE,
    "notification": NOTIFICATION,
}
KMS_VALIDITY = datetime.timedelta(days=180)  # the activation validity interval
OOB_GRACE_PERIOD = datetime.timedelta(days=30)  # "30-day out-of-box grace period"
# "Volume Activation Technical Reference" (Windows 7), KMS activation timing: 30 days of OOT grace,
# then notification.
OOT_GRACE_PERIOD = datetime.timedelta(days=30)

CHANNEL_GVLK = "Volume:GVLK"
CHANNEL_MAK = "Volume:MAK"
CHANNEL_CSVLK = "Volume:CSVLK"
CHANNEL_RETAIL = "Retail"
# Assumption: the channel name of an AVMA key; Microsoft documents only the Description marker
# VIRTUAL_MACHINE_ACTIVATION that slmgr.vbs tests.
CHANNEL_AVMA = "Volume:AVMA"


def digest(*parts: str) -> bytes:
    return hashlib.sha256("|".join(parts).encode()).digest()


def digits(seed: bytes, count: int) -> str:
    number = int.from_bytes(seed, "big")
    return "".join(str((number >> (4 * i)) % 10) for i in range(count))


def synthesize_key(*parts: str) -> str:
    """A fabricated, well-formed 5x5 key (for KMS hosts whose fleet lists no CSVLK)."""
    alphabet = "BCDFGHJKMPQRTVWXY2346789"
    number = int.from_bytes(digest("key", *parts), "big")
    chars = []
    for _position in range(25):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "-".join("".join(chars[i : i + 5]) for i in range(0, 25, 5))


@dataclasses.dataclass(frozen=True)
class KeyEntry:
    """A key from the fleet's ``keys`` list (fabricated keys the emulated licensing knows)."""

    key: str
    channel: str
    editions: frozenset[str] = frozenset()
    csvlk_group: str | None = None
    blocked: bool = False


KeyRing = t.Mapping[str, KeyEntry]


@dataclasses.dataclass(eq=False)
class Product:
    id: str
    app_id: str
    name: str
    description: str
    channel: str
    license_family: str
    edition: ed.Edition | None
    csvlk_group: str | None = None
    key: str | None = None
    status: int = UNLICENSED
    until: datetime.datetime | None = None  # end of the current validity / grace period (machine clock)
    kms_epid: str = ""
    discovered_name: str = ""
    discovered_port: int = 0
    discovered_ip: str = ""
    cached_host: tuple[str, int] | None = None
    host_activation_interval: int | None = None
    host_renewal_interval: int | None = None
    activation_type_used: int = 0
    # AVMA: what the Hyper-V host reported at the last activation (empty when never activated that way).
    avma_host_name: str = ""
    avma_activation_time: datetime.datetime | None = None
    avma_host_pid2: str = ""
    # Active Directory-based activation: the activation object that activated this product last.
    ad_object: ActivationObject | None = None
    remaining_sku_rearm: int = 1001
    remaining_app_rearm: int = 1001
    office_version: str | None = None  # an Office SKU's version ("Office LTSC 2021"); None for Windows

    @property
    def is_office(self) -> bool:
        return self.app_id == off.OFFICE_APP_ID

    @property
    def is_windows(self) -> bool:
        return self.app_id == ed.WINDOWS_APP_ID

    @property
    def partial_key(self) -> str | None:
        return self.key[-5:] if self.key else None

    @property
    def n_policy(self) -> int:
        # Clients need 25, servers and volume editions of Office need 5 ("KMS activation planning").
        return self.edition.n_policy if self.edition is not None else 5

    def effective(self, now: datetime.datetime) -> tuple[int, int, int]:
        """(LicenseStatus, LicenseStatusReason, GracePeriodRemaining minutes) at ``now``."""
        if self.key is None:
            return UNLICENSED, SL_E_PKEY_NOT_INSTALLED, 0
        status, until = self.status, self.until
        if status == LICENSED and until is not None and now >= until:
            # A KMS activation not renewed within 180 days falls into OOT grace (KMS activation timing).
            status, until = OOT_GRACE, until + OOT_GRACE_PERIOD
        if status in (OOB_GRACE, OOT_GRACE) and until is not None and now >= until:
            return NOTIFICATION, SL_E_GRACE_TIME_EXPIRED, 0
        minutes = max(0, int((until - now).total_seconds() // 60)) if until is not None else 0
        reason = {
            LICENSED: 0,
            OOB_GRACE: SL_I_OOB_GRACE_PERIOD,
            OOT_GRACE: SL_I_OOT_GRACE_PERIOD,
            NOTIFICATION: SL_E_GRACE_TIME_EXPIRED,
        }.get(status, 0)
        return status, reason, minutes


OFFICE = "Office"


def classify_key(edition: ed.Edition, keyring: KeyRing, key: str) -> tuple[str, str | None]:
    """(channel, CSVLK group) of the SKU a normalized key installs on; ProviderError when none."""
    if off.sku_for_gvlk(key) is not None:
        return OFFICE, None
    fits = ed.avma_fits(key, edition.edition_id, edition.build)
    if fits is not None:
        if not fits:
            # Assumption: like a GVLK of another edition, an AVMA key of another guest edition has no SKU here.
            raise ProviderError(SL_E_MISMATCHED_PRODUCT_SKU, f"AVMA key does not fit {edition.caption}")
        return CHANNEL_AVMA, None
    row = ed.find_gvlk(key)
    if row is not None:
        if key != edition.gvlk:
            # 0xC004F069 (inferred from its slerror.h text): a GVLK for another edition has no SKU here.
            raise ProviderError(SL_E_MISMATCHED_PRODUCT_SKU, f"GVLK of {row.edition} does not fit {edition.caption}")
        return CHANNEL_GVLK, None
    entry = keyring.get(key)
    if entry is None:
        raise ProviderError(SL_E_INVALID_PRODUCT_KEY, "The product key is invalid")
    if entry.channel == CHANNEL_CSVLK:
        # Assumption: a CSVLK group that cannot be hosted on this OS ("KMS activation planning") has no SKU here.
        if entry.csvlk_group not in {group.name for group in edition.hostable_groups()}:
            raise ProviderError(
                SL_E_MISMATCHED_PRODUCT_SKU, f"CSVLK group {entry.csvlk_group!r} cannot be hosted on {edition.caption}"
            )
        return CHANNEL_CSVLK, entry.csvlk_group
    # MAK SKUs exist only for volume-licensed editions (those with a GVLK); Retail ones always.
    if edition.edition_id not in entry.editions or (entry.channel == CHANNEL_MAK and edition.gvlk is None):
        raise ProviderError(SL_E_MISMATCHED_PRODUCT_SKU, f"{entry.channel} key does not fit {edition.edition_id}")
    return entry.channel, None


def build_products(
    edition: ed.Edition,
    office_installs: t.Sequence[off.OfficeInstall] = (),
    office_hosts: t.Sequence[str] = (),
) -> list[Product]:
    """The SKUs of an installation: KMS client, MAK and Retail, one KMS host SKU per hostable CSVLK group,
    the KMS client SKU of each Office volume product installed and the Office KMS host SKUs (keys are loaded
    afterwards)."""
    family, eid = edition.product_family, edition.edition_id
    name = f"Windows(R), {eid} edition"

    def windows(sku_id: str, marker: str, channel: str, group: str | None = None) -> Product:
        return Product(
            id=sku_id,
            app_id=ed.WINDOWS_APP_ID,
            name=name,
            description=f"Windows(R) Operating System, {marker} channel",  # the markers slmgr.vbs reads
            channel=channel,
            license_family=eid,
            edition=edition,
            csvlk_group=group,
        )

    products: list[Product] = []
    if edition.kms_client_activation_id is not None:
        products.append(windows(edition.kms_client_activation_id, "VOLUME_KMSCLIENT", CHANNEL_GVLK))
        products.append(windows(ed.sku_uuid(family, eid, "VOLUME_MAK"), "VOLUME_MAK", CHANNEL_MAK))
    products.append(windows(ed.sku_uuid(family, eid, "RETAIL"), "RETAIL", CHANNEL_RETAIL))
    if any(value == (eid, edition.build) for value in ed.avma_keys().values()):
        # The guest SKU that AVMA keys install on ("Automatic virtual machine activation in Windows Server").
        products.append(
            windows(ed.sku_uuid(family, eid, "VIRTUAL_MACHINE_ACTIVATION"), "VIRTUAL_MACHINE_ACTIVATION", CHANNEL_AVMA)
        )
    for group in edition.hostable_groups():
        sku_id = ed.sku_uuid(family, eid, "VOLUME_KMS", group.name)
        products.append(windows(sku_id, f"VOLUME_KMS_{group.tag}", CHANNEL_CSVLK, group.name))
    # Assumption: an installed Office volume product shows its KMS client SKU only (its MAK and retail SKUs
    # are not modelled).
    for install in office_installs:
        sku = install.sku
        products.append(
            Product(
                id=sku.sku_id,
                app_id=off.OFFICE_APP_ID,
                name=sku.name,
                description=sku.description,
                channel=CHANNEL_GVLK,
                license_family=sku.license_family,
                edition=None,
                office_version=sku.version,
            )
        )
    for version in office_hosts:
        host_name, host_description = off.host_name(version)
        products.append(
            Product(
                id=off.HOST_ACTIVATION_IDS[version],
                app_id=off.OFFICE_APP_ID,
                name=host_name,
                description=host_description,
                channel=CHANNEL_CSVLK,
                license_family=host_name.split(", ", 1)[1].removesuffix(" edition"),
                edition=None,
                office_version=version,
            )
        )
    return products
