"""Active Directory-based activation: the activation objects of a forest, and the token-based activation issuance
licenses a machine holds.

"Deploy Active Directory-based Activation" (Windows Server 2012 R2 volume activation docs): a CSVLK activated
online or by phone publishes an activation object in ``CN=Activation Objects,CN=Microsoft SPP,CN=Services,
CN=Configuration,<forest root DN>``; Windows 8 / Server 2012 and later domain members activate against it, and
fall back to KMS when none serves them. slmgr.vbs /ao-list reads ``displayName``, ``msSPP-CSVLKSkuId``,
``msSPP-CSVLKPid`` and ``msSPP-CSVLKPartialProductKey`` of each object over LDAP; the client reports the object
that activated it in SoftwareLicensingProduct.ADActivationObjectName / ObjectDN / CsvlkPid / CsvlkSkuId.
"""

from __future__ import annotations

import dataclasses
import datetime
import uuid

from .spp_products import digest, digits

AO_CONTAINER = "CN=Activation Objects,CN=Microsoft SPP,CN=Services,CN=Configuration"
# "The activation object name must not exceed 40 Unicode characters" (slmgr.vbs options, /ad-activation-online).
AO_NAME_MAX = 40
_AO_NAMESPACE = uuid.UUID("6f1d0a4e-3c2b-5d7e-9a8b-61637469766f")


def domain_dn(domain: str) -> str:
    return ",".join(f"DC={part}" for part in domain.split("."))


@dataclasses.dataclass
class ActivationObject:
    """One ``msSPP-ActivationObject`` of a forest."""

    name: str  # displayName
    csvlk_key: str  # never shown; only its last five characters are (msSPP-CSVLKPartialProductKey)
    csvlk_group: str
    domain: str  # the forest root domain

    @property
    def cn(self) -> str:
        # Assumption: the object's RDN is a GUID (the displayName carries the name); not documented.
        return str(uuid.uuid5(_AO_NAMESPACE, f"{self.domain.lower()}|{self.csvlk_key}")).upper()

    @property
    def dn(self) -> str:
        return f"CN={self.cn},{AO_CONTAINER},{domain_dn(self.domain)}"

    @property
    def csvlk_pid(self) -> str:
        # Assumption: an extended PID shaped like the KMS host's (slmgr /ao-list "AO extended PID"); synthetic.
        seed = digest("ao-pid", self.csvlk_key)
        return f"06401-00206-{digits(seed, 3)}-{digits(seed[8:], 6)}-03-1033-9200.0000-0012025"

    @property
    def csvlk_sku_id(self) -> str:
        # Assumption: the CSVLK SKU's activation ID is synthetic per CSVLK group (Microsoft lists none here).
        return str(uuid.uuid5(_AO_NAMESPACE, f"sku|{self.csvlk_group}"))

    def as_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "dn": self.dn,
            "csvlk_partial_product_key": self.csvlk_key[-5:],
            "csvlk_group": self.csvlk_group,
            "csvlk_pid": self.csvlk_pid,
            "csvlk_sku_id": self.csvlk_sku_id,
        }


class Forests:
    """The activation objects of every forest the fleet's machines belong to (keyed by the root domain)."""

    def __init__(self) -> None:
        self._objects: dict[str, list[ActivationObject]] = {}

    def objects(self, domain: str) -> list[ActivationObject]:
        return list(self._objects.get(domain.lower(), ()))

    def publish(self, ao: ActivationObject) -> ActivationObject:
        """Add an activation object; one per CSVLK.

        Assumption: activating the same CSVLK again keeps its one object and takes the new name (Microsoft does
        not say what a second activation of the same key does).
        """
        found = self._objects.setdefault(ao.domain.lower(), [])
        for existing in found:
            if existing.csvlk_key == ao.csvlk_key:
                existing.name = ao.name
                return existing
        found.append(ao)
        return ao


@dataclasses.dataclass
class TokenLicense:
    """A SoftwareLicensingTokenActivationLicense (an installed token-based activation issuance license).

    Members as "SoftwareLicensingTokenActivationLicense class" (Microsoft Learn) lists them: ID (key), ILID,
    ILVID, AuthorizationStatus, ExpirationDate, Description, AdditionalInfo; method Uninstall.
    """

    ilid: str
    ilvid: int
    description: str = ""
    additional_info: str | None = None
    expiration: datetime.datetime | None = None
    authorization_status: int = 0

    @property
    def id(self) -> str:
        # Assumption: the license ID (the XrML license's GUID) is synthetic, stable per ILID and version.
        return str(uuid.uuid5(_AO_NAMESPACE, f"til|{self.ilid.lower()}|{self.ilvid}"))

    def as_cim(self) -> dict[str, object]:
        return {
            "ID": self.id,
            "ILID": self.ilid,
            "ILVID": self.ilvid,
            "AuthorizationStatus": self.authorization_status,
            "ExpirationDate": self.expiration,
            "Description": self.description,
            "AdditionalInfo": self.additional_info,
        }
