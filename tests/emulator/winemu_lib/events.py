"""Windows event logs as Win32_NTLogEvent serves them.

Clients log 12288 / 12289 in the Application log; KMS hosts log 12290 in the 'Key Management
Service' log, as the "Windows Event Log" table of the Volume Activation Technical Reference (Windows 7)
lists them. The comma-joined ``Info`` block goes into ``InsertionStrings[0]``: the message templates
have a single ``%1``. Log and source names are those libyal/winevt-kb records for Security-SPP.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import typing as t

APPLICATION_LOG = "Application"
KMS_LOG = "Key Management Service"
SPP_SOURCE = "Software Protection Platform Service"  # classic source name (libyal/winevt-kb)
KMS_SOURCE = "KmsRequests"  # libyal/winevt-kb

EVENT_REQUEST_SENT = 12288
EVENT_RESPONSE_PROCESSED = 12289
EVENT_REQUEST_PROCESSED = 12290

# Message templates ("Windows Event Log" table); %1 is the Info block.
_TEMPLATES = {
    EVENT_REQUEST_SENT: "The client has sent an activation request to the key management service machine.\r\nInfo:\r\n",
    EVENT_RESPONSE_PROCESSED: (
        "The client has processed an activation response from the key management service machine.\r\nInfo:\r\n"
    ),
    EVENT_REQUEST_PROCESSED: "An activation request has been processed.\r\nInfo:\r\n",
}

# Assumption: only the most recent records are kept, like a size-limited event log; this bounds the
# memory of long test runs against large fleets.
MAX_RECORDS_PER_LOG = 1000

# Status flags of 12288/12289 ("VA 2.0 operations guide").
STATUS_OK = 0x00000000
STATUS_NOT_ENOUGH_COUNT = 0x04000000


def hresult_hex(code: int) -> str:
    return f"0x{code & 0xFFFFFFFF:08X}"


def client_time(moment: datetime.datetime) -> str:
    """The 'Client time' field format of Microsoft's examples (error 0xC004F074 article): 2010/09/29 17:52."""
    return moment.strftime("%Y/%m/%d %H:%M")


@dataclasses.dataclass(frozen=True)
class EventRecord:
    logfile: str
    record_number: int
    event_code: int
    source_name: str
    insertion_strings: tuple[str, ...]
    message: str
    time_generated: datetime.datetime
    computer_name: str

    @property
    def event_identifier(self) -> int:
        # Assumption: Security-SPP informational events carry the 0x40000000 severity bits, as the
        # community-reported event 1003 (EventIdentifier 1073742827 = 0x400003EB) shows.
        return 0x40000000 | self.event_code

    def as_cim(self) -> dict[str, t.Any]:
        return {
            "Category": 0,
            "CategoryString": None,
            "ComputerName": self.computer_name,
            "Data": None,
            "EventCode": self.event_code,
            "EventIdentifier": self.event_identifier,
            "EventType": 3,  # Information (Win32_NTLogEvent documentation)
            "InsertionStrings": list(self.insertion_strings),
            "Logfile": self.logfile,
            "Message": self.message,
            "RecordNumber": self.record_number,
            "SourceName": self.source_name,
            "TimeGenerated": self.time_generated,
            "TimeWritten": self.time_generated,
            "Type": "Information",
            "User": None,
        }

    def as_json(self) -> dict[str, t.Any]:
        return {
            "logfile": self.logfile,
            "record_number": self.record_number,
            "event_code": self.event_code,
            "source": self.source_name,
            "info": list(self.insertion_strings),
            "time": self.time_generated.isoformat(),
        }


class EventLogs:
    """The event logs of one machine."""

    def __init__(self, computer_name: str) -> None:
        self.computer_name = computer_name
        self._logs: dict[str, collections.deque[EventRecord]] = {}
        self._next_record: dict[str, int] = {}

    def write(self, logfile: str, source: str, event_code: int, info: str, when: datetime.datetime) -> EventRecord:
        number = self._next_record.get(logfile, 1)
        self._next_record[logfile] = number + 1
        record = EventRecord(
            logfile=logfile,
            record_number=number,
            event_code=event_code,
            source_name=source,
            insertion_strings=(info,),
            message=_TEMPLATES.get(event_code, "") + info,
            time_generated=when,
            computer_name=self.computer_name,
        )
        self._logs.setdefault(logfile, collections.deque(maxlen=MAX_RECORDS_PER_LOG)).append(record)
        return record

    def records(self, logfile: str | None = None) -> list[EventRecord]:
        if logfile is not None:
            return list(self._logs.get(logfile, ()))
        return [record for log in self._logs.values() for record in log]

    def clear(self) -> None:
        self._logs.clear()

    # --- the KMS events ----------------------------------------------------------------------------

    def request_sent(
        self,
        *,
        hresult: int,
        server: str,
        cmid: str,
        when: datetime.datetime,
        license_status: int,
        minutes_left: int,
        activation_id: str,
        n_policy: int,
    ) -> EventRecord:
        """12288: HRESULT, status flags, Server:Port, CMID, client time, VM info, licensing status,
        time to expiration, ActID, N-Policy ("Windows Event Log" table)."""
        fields = [
            hresult_hex(hresult),
            hresult_hex(STATUS_OK),
            server,
            cmid,
            client_time(when),
            "0",  # Assumption: emulated machines report no VM flag.
            str(license_status),
            str(minutes_left),
            activation_id,
            str(n_policy),
        ]
        return self.write(APPLICATION_LOG, SPP_SOURCE, EVENT_REQUEST_SENT, ", ".join(fields), when)

    def response_processed(
        self,
        *,
        hresult: int,
        bound: bool,
        count: int,
        activation_interval: int,
        renewal_interval: int,
        when: datetime.datetime,
    ) -> EventRecord:
        """12289: HRESULT, status flags, fBound, unused, count, activation/renewal interval, client time."""
        status = STATUS_NOT_ENOUGH_COUNT if hresult == 0xC004F038 else STATUS_OK
        fields = [
            hresult_hex(hresult),
            hresult_hex(status),
            "1" if bound else "0",
            "0",
            str(count),
            str(activation_interval),
            str(renewal_interval),
            client_time(when),
        ]
        return self.write(APPLICATION_LOG, SPP_SOURCE, EVENT_RESPONSE_PROCESSED, ", ".join(fields), when)

    def request_processed(
        self,
        *,
        hresult: int,
        min_count: int,
        client_name: str,
        cmid: str,
        client_when: datetime.datetime,
        license_status: int,
        minutes_left: int,
        activation_id: str,
        when: datetime.datetime,
    ) -> EventRecord:
        """12290 on the host: HRESULT, minimum count, client FQDN, CMID, client timestamp, VM flag,
        license state, time to expiration, ActID — comma-joined without spaces as in the error 0xC004F074
        article's example."""
        fields = [
            hresult_hex(hresult),
            str(min_count),
            client_name,
            cmid,
            client_time(client_when),
            "0",
            str(license_status),
            str(minutes_left),
            activation_id,
        ]
        return self.write(KMS_LOG, KMS_SOURCE, EVENT_REQUEST_PROCESSED, ",".join(fields), when)
