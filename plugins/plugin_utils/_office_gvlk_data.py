# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# GENERATED FILE - DO NOT EDIT. Regenerate with: python tools/gen_office_gvlk_data.py
# Generated from tools/data/office_gvlk.yaml, the project's sourced copy of Microsoft's table
# "Generic Volume License Keys (GVLK) for Office":
# https://learn.microsoft.com/office/volume-license-activation/gvlks
"""Office, Project and Visio GVLKs (Office 2016 to Office LTSC 2024), generated from Microsoft's table."""

from __future__ import annotations

from typing import Final, TypedDict

MICROSOFT_TITLE: Final = "Generic Volume License Keys (GVLK) for Office"
MICROSOFT_URL: Final = "https://learn.microsoft.com/office/volume-license-activation/gvlks"
OFFICE_APPLICATION_ID: Final = "0ff1ce15-a989-479d-af46-f275c6370663"


class OfficeGvlkRow(TypedDict):
    version: str
    product: str
    key: str


ROWS: Final[tuple[OfficeGvlkRow, ...]] = (
    {"version": "Office LTSC 2024", "product": "Office Professional Plus", "key": "XJ2XN-FW8RK-P4HMP-DKDBV-GCVGB"},
    {"version": "Office LTSC 2024", "product": "Office Standard", "key": "V28N4-JG22K-W66P8-VTMGK-H6HGR"},
    {"version": "Office LTSC 2024", "product": "Project Professional", "key": "FQQ23-N4YCY-73HQ3-FM9WC-76HF4"},
    {"version": "Office LTSC 2024", "product": "Project Standard", "key": "PD3TT-NTHQQ-VC7CY-MFXK3-G87F8"},
    {"version": "Office LTSC 2024", "product": "Visio Professional", "key": "B7TN8-FJ8V3-7QYCP-HQPMV-YY89G"},
    {"version": "Office LTSC 2024", "product": "Visio Standard", "key": "JMMVY-XFNQC-KK4HK-9H7R3-WQQTV"},
    {"version": "Office LTSC 2024", "product": "Access", "key": "82FTR-NCHR7-W3944-MGRHM-JMCWD"},
    {"version": "Office LTSC 2024", "product": "Excel", "key": "F4DYN-89BP2-WQTWJ-GR8YC-CKGJG"},
    {"version": "Office LTSC 2024", "product": "Outlook", "key": "D2F8D-N3Q3B-J28PV-X27HD-RJWB9"},
    {"version": "Office LTSC 2024", "product": "PowerPoint", "key": "CW94N-K6GJH-9CTXY-MG2VC-FYCWP"},
    {"version": "Office LTSC 2024", "product": "Skype for Business", "key": "4NKHF-9HBQF-Q3B6C-7YV34-F64P3"},
    {"version": "Office LTSC 2024", "product": "Word", "key": "MQ84N-7VYDM-FXV7C-6K7CC-VFW9J"},
    {"version": "Office LTSC 2021", "product": "Office Professional Plus", "key": "FXYTK-NJJ8C-GB6DW-3DYQT-6F7TH"},
    {"version": "Office LTSC 2021", "product": "Office Standard", "key": "KDX7X-BNVR8-TXXGX-4Q7Y8-78VT3"},
    {"version": "Office LTSC 2021", "product": "Project Professional", "key": "FTNWT-C6WBT-8HMGF-K9PRX-QV9H8"},
    {"version": "Office LTSC 2021", "product": "Project Standard", "key": "J2JDC-NJCYY-9RGQ4-YXWMH-T3D4T"},
    {"version": "Office LTSC 2021", "product": "Visio Professional", "key": "KNH8D-FGHT4-T8RK3-CTDYJ-K2HT4"},
    {"version": "Office LTSC 2021", "product": "Visio Standard", "key": "MJVNY-BYWPY-CWV6J-2RKRT-4M8QG"},
    {"version": "Office LTSC 2021", "product": "Access", "key": "WM8YG-YNGDD-4JHDC-PG3F4-FC4T4"},
    {"version": "Office LTSC 2021", "product": "Excel", "key": "NWG3X-87C9K-TC7YY-BC2G7-G6RVC"},
    {"version": "Office LTSC 2021", "product": "Outlook", "key": "C9FM6-3N72F-HFJXB-TM3V9-T86R9"},
    {"version": "Office LTSC 2021", "product": "PowerPoint", "key": "TY7XF-NFRBR-KJ44C-G83KF-GX27K"},
    {"version": "Office LTSC 2021", "product": "Publisher", "key": "2MW9D-N4BXM-9VBPG-Q7W6M-KFBGQ"},
    {"version": "Office LTSC 2021", "product": "Skype for Business", "key": "HWCXN-K3WBT-WJBKY-R8BD9-XK29P"},
    {"version": "Office LTSC 2021", "product": "Word", "key": "TN8H9-M34D3-Y64V9-TR72V-X79KV"},
    {"version": "Office 2019", "product": "Office Professional Plus", "key": "NMMKJ-6RK4F-KMJVX-8D9MJ-6MWKP"},
    {"version": "Office 2019", "product": "Office Standard", "key": "6NWWJ-YQWMR-QKGCB-6TMB3-9D9HK"},
    {"version": "Office 2019", "product": "Project Professional", "key": "B4NPR-3FKK7-T2MBV-FRQ4W-PKD2B"},
    {"version": "Office 2019", "product": "Project Standard", "key": "C4F7P-NCP8C-6CQPT-MQHV9-JXD2M"},
    {"version": "Office 2019", "product": "Visio Professional", "key": "9BGNQ-K37YR-RQHF2-38RQ3-7VCBB"},
    {"version": "Office 2019", "product": "Visio Standard", "key": "7TQNQ-K3YQQ-3PFH7-CCPPM-X4VQ2"},
    {"version": "Office 2019", "product": "Access", "key": "9N9PT-27V4Y-VJ2PD-YXFMF-YTFQT"},
    {"version": "Office 2019", "product": "Excel", "key": "TMJWT-YYNMB-3BKTF-644FC-RVXBD"},
    {"version": "Office 2019", "product": "Outlook", "key": "7HD7K-N4PVK-BHBCQ-YWQRW-XW4VK"},
    {"version": "Office 2019", "product": "PowerPoint", "key": "RRNCX-C64HY-W2MM7-MCH9G-TJHMQ"},
    {"version": "Office 2019", "product": "Publisher", "key": "G2KWX-3NW6P-PY93R-JXK2T-C9Y9V"},
    {"version": "Office 2019", "product": "Skype for Business", "key": "NCJ33-JHBBY-HTK98-MYCV8-HMKHJ"},
    {"version": "Office 2019", "product": "Word", "key": "PBX3G-NWMT6-Q7XBW-PYJGG-WXD33"},
    {"version": "Office 2016", "product": "Office Professional Plus", "key": "XQNVK-8JYDB-WJ9W3-YJ8YR-WFG99"},
    {"version": "Office 2016", "product": "Office Standard", "key": "JNRGM-WHDWX-FJJG3-K47QV-DRTFM"},
    {"version": "Office 2016", "product": "Project Professional", "key": "YG9NW-3K39V-2T3HJ-93F3Q-G83KT"},
    {"version": "Office 2016", "product": "Project Standard", "key": "GNFHQ-F6YQM-KQDGJ-327XX-KQBVC"},
    {"version": "Office 2016", "product": "Visio Professional", "key": "PD3PC-RHNGV-FXJ29-8JK7D-RJRJK"},
    {"version": "Office 2016", "product": "Visio Standard", "key": "7WHWN-4T7MP-G96JF-G33KR-W8GF4"},
    {"version": "Office 2016", "product": "Access", "key": "GNH9Y-D2J4T-FJHGG-QRVH7-QPFDW"},
    {"version": "Office 2016", "product": "Excel", "key": "9C2PK-NWTVB-JMPW8-BFT28-7FTBF"},
    {"version": "Office 2016", "product": "Outlook", "key": "R69KK-NTPKF-7M3Q4-QYBHW-6MT9B"},
    {"version": "Office 2016", "product": "PowerPoint", "key": "J7MQP-HNJ4Y-WJ7YM-PFYGF-BY6C6"},
    {"version": "Office 2016", "product": "Publisher", "key": "F47MM-N3XJP-TQXJ9-BP99D-8K837"},
    {"version": "Office 2016", "product": "Skype for Business", "key": "869NQ-FJ69K-466HW-QYCP2-DDBV6"},
    {"version": "Office 2016", "product": "Word", "key": "WXY84-JN2Q9-RBCCQ-3Q3J3-3PFJ6"},
    {"version": "Office 2016", "product": "OneNote", "key": "DR92N-9HTF2-97XKM-XW2WJ-XW3J6"},
)
