# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# GENERATED FILE - DO NOT EDIT. Regenerate with: python tools/gen_avma_data.py
# Generated from tools/data/avma.yaml, the project's sourced copy of Microsoft's table
# "Automatic virtual machine activation in Windows Server":
# https://learn.microsoft.com/windows-server/get-started/automatic-vm-activation
"""AVMA keys per guest release and edition.

Rows with listed_by_microsoft False come from community scripts and are never picked by default.
"""

from __future__ import annotations

from typing import Final, TypedDict

MICROSOFT_TITLE: Final = "Automatic virtual machine activation in Windows Server"
MICROSOFT_URL: Final = "https://learn.microsoft.com/windows-server/get-started/automatic-vm-activation"


class AvmaRow(TypedDict):
    guest: str
    edition: str
    edition_id: str
    key: str
    build: int
    listed_by_microsoft: bool
    source: str


ROWS: Final[tuple[AvmaRow, ...]] = (
    {
        "guest": "Windows Server 2022",
        "edition": "Datacenter",
        "edition_id": "ServerDatacenter",
        "key": "W3GNR-8DDXR-2TFRP-H8P33-DV9BG",
        "build": 20348,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server 2022",
        "edition": "Datacenter: Azure Edition",
        "edition_id": "ServerTurbine",
        "key": "F7TB6-YKN8Y-FCC6R-KQ484-VMK3J",
        "build": 20348,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server 2022",
        "edition": "Standard",
        "edition_id": "ServerStandard",
        "key": "YDFWN-MJ9JR-3DYRK-FXXRW-78VHK",
        "build": 20348,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server 2019",
        "edition": "Datacenter",
        "edition_id": "ServerDatacenter",
        "key": "H3RNG-8C32Q-Q8FRX-6TDXV-WMBMW",
        "build": 17763,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server 2019",
        "edition": "Standard",
        "edition_id": "ServerStandard",
        "key": "TNK62-RXVTB-4P47B-2D623-4GF74",
        "build": 17763,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server 2019",
        "edition": "Essentials",
        "edition_id": "ServerSolution",
        "key": "2CTP7-NHT64-BP62M-FV6GG-HFV28",
        "build": 17763,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server versions 1909, 1903, 1809",
        "edition": "Datacenter",
        "edition_id": "ServerDatacenterACor",
        "key": "H3RNG-8C32Q-Q8FRX-6TDXV-WMBMW",
        "build": 18363,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server versions 1909, 1903, 1809",
        "edition": "Standard",
        "edition_id": "ServerStandardACor",
        "key": "TNK62-RXVTB-4P47B-2D623-4GF74",
        "build": 18363,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server versions 1909, 1903, 1809",
        "edition": "Datacenter",
        "edition_id": "ServerDatacenterACor",
        "key": "H3RNG-8C32Q-Q8FRX-6TDXV-WMBMW",
        "build": 18362,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server versions 1909, 1903, 1809",
        "edition": "Standard",
        "edition_id": "ServerStandardACor",
        "key": "TNK62-RXVTB-4P47B-2D623-4GF74",
        "build": 18362,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server versions 1909, 1903, 1809",
        "edition": "Datacenter",
        "edition_id": "ServerDatacenterACor",
        "key": "H3RNG-8C32Q-Q8FRX-6TDXV-WMBMW",
        "build": 17763,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server versions 1909, 1903, 1809",
        "edition": "Standard",
        "edition_id": "ServerStandardACor",
        "key": "TNK62-RXVTB-4P47B-2D623-4GF74",
        "build": 17763,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server versions 1803, 1709",
        "edition": "Datacenter",
        "edition_id": "ServerDatacenterACor",
        "key": "TMJ3Y-NTRTM-FJYXT-T22BY-CWG3J",
        "build": 17134,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server versions 1803, 1709",
        "edition": "Standard",
        "edition_id": "ServerStandardACor",
        "key": "C3RCX-M6NRP-6CXC9-TW2F2-4RHYD",
        "build": 17134,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server versions 1803, 1709",
        "edition": "Datacenter",
        "edition_id": "ServerDatacenterACor",
        "key": "TMJ3Y-NTRTM-FJYXT-T22BY-CWG3J",
        "build": 16299,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server versions 1803, 1709",
        "edition": "Standard",
        "edition_id": "ServerStandardACor",
        "key": "C3RCX-M6NRP-6CXC9-TW2F2-4RHYD",
        "build": 16299,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server 2016",
        "edition": "Datacenter",
        "edition_id": "ServerDatacenter",
        "key": "TMJ3Y-NTRTM-FJYXT-T22BY-CWG3J",
        "build": 14393,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server 2016",
        "edition": "Standard",
        "edition_id": "ServerStandard",
        "key": "C3RCX-M6NRP-6CXC9-TW2F2-4RHYD",
        "build": 14393,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server 2016",
        "edition": "Essentials",
        "edition_id": "ServerSolution",
        "key": "B4YNW-62DX9-W8V6M-82649-MHBKQ",
        "build": 14393,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server 2012 R2",
        "edition": "Datacenter",
        "edition_id": "ServerDatacenter",
        "key": "Y4TGP-NPTV9-HTC2H-7MGQ3-DV4TW",
        "build": 9600,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server 2012 R2",
        "edition": "Standard",
        "edition_id": "ServerStandard",
        "key": "DBGBW-NPF86-BJVTX-K3WKJ-MTB6V",
        "build": 9600,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server 2012 R2",
        "edition": "Essentials",
        "edition_id": "ServerSolution",
        "key": "K2XGM-NMBT3-2R6Q8-WF2FK-P36R2",
        "build": 9600,
        "listed_by_microsoft": True,
        "source": "Microsoft Learn: Automatic virtual machine activation in Windows Server",
    },
    {
        "guest": "Windows Server 2025",
        "edition": "Datacenter",
        "edition_id": "ServerDatacenter",
        "key": "YQB4H-NKHHJ-Q6K4R-4VMY6-VCH67",
        "build": 26100,
        "listed_by_microsoft": False,
        "source": "community scripts citing automatic-vm-activation?tabs=server2025",
    },
    {
        "guest": "Windows Server 2025",
        "edition": "Datacenter: Azure Edition",
        "edition_id": "ServerTurbine",
        "key": "6NMQ9-T38WF-6MFGM-QYGYM-88J4F",
        "build": 26100,
        "listed_by_microsoft": False,
        "source": "community scripts citing automatic-vm-activation?tabs=server2025",
    },
    {
        "guest": "Windows Server 2025",
        "edition": "Standard",
        "edition_id": "ServerStandard",
        "key": "WWVGQ-PNHV9-B89P4-8GGM9-9HPQ4",
        "build": 26100,
        "listed_by_microsoft": False,
        "source": "community scripts citing automatic-vm-activation?tabs=server2025",
    },
)
