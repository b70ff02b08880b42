"""The WS-Management faults the emulated WinRM service answers with, shaped like recorded Windows responses.

Each builder returns a :class:`soap.SoapFault`; :func:`cim_fault` turns a :class:`cim.CimError` from the
machine into the fault Windows' WMI plugin would send. The faults a malformed request gets while it is
parsed (invalid XML, missing or bad headers) are next to the parser in :mod:`soap`.
"""

from __future__ import annotations

from . import cim
from .soap import (
    CLASS_NOT_FOUND_MESSAGE,
    CODE_ACCESS_DENIED,
    CODE_ACTION_NOT_SUPPORTED,
    CODE_CANNOT_PROCESS_FILTER,
    CODE_DIALECT_UNAVAILABLE,
    CODE_ENVELOPE_TOO_LARGE,
    CODE_INVALID_ENUMERATION_CONTEXT,
    CODE_INVALID_PARAMETER,
    CODE_INVALID_SELECTORS,
    CODE_PROVIDER_FAILURE,
    CODE_RESOURCE_NOT_FOUND,
    CODE_TIMED_OUT,
    CODE_UNSUPPORTED_FEATURE,
    FAULT_ADDRESSING,
    FAULT_ENUMERATION,
    FAULT_WSMAN,
    WBEM_E_FAILED,
    WBEM_E_INVALID_CLASS,
    WBEM_E_INVALID_METHOD,
    WBEM_E_INVALID_PARAMETER,
    WBEM_E_NOT_FOUND,
    WMI_PROVIDER,
    SoapFault,
    extended_status,
    provider_fault,
    wsman_fault_detail,
    xml_text,
)


def action_not_supported(machine: str, action: str, *, why: str = "") -> SoapFault:
    reason = "The WS-Management service does not support the action specified in the request. "
    message = f"The action {action} is {why or 'not supported'}. "
    return SoapFault(
        action=FAULT_ADDRESSING,
        code="s:Sender",
        subcode="a:ActionNotSupported",
        reason=reason + (message if why else ""),
        detail=wsman_fault_detail(CODE_ACTION_NOT_SUPPORTED, machine, xml_text(message)),
    )


RESOURCE_NOT_FOUND_REASON = (
    "The WS-Management service cannot process the request. The service cannot find the resource identified "
    "by the resource URI and selectors. "
)


def resource_not_found(machine: str, what: str, *, provider_detail: str | None = None) -> SoapFault:
    """a:DestinationUnreachable with ERROR_WSMAN_RESOURCE_NOT_FOUND, the shape a real host gave for a Get of a
    non-existent instance (microsoft/omi issue #254). ``provider_detail`` replaces the plain message."""
    message = provider_detail or xml_text(f"{RESOURCE_NOT_FOUND_REASON}Resource: {what} ")
    return SoapFault(
        action=FAULT_ADDRESSING,
        code="s:Sender",
        subcode="a:DestinationUnreachable",
        reason=RESOURCE_NOT_FOUND_REASON,
        detail=wsman_fault_detail(CODE_RESOURCE_NOT_FOUND, machine, message),
    )


def invalid_selectors(
    machine: str,
    message: str,
    *,
    detail_kind: str = "UnexpectedSelectors",
    provider: tuple[str, str] = WMI_PROVIDER,
) -> SoapFault:
    """``w:InvalidSelectors`` shaped like the recorded response in pypsrp's test data
    (``test_psrp_is_alive_invalid_selectors.yml``)."""
    # Assumption: the recording carries Code 2150858843 (UnexpectedSelectors) from the Shell provider;
    # the same code is used for missing key selectors (faultDetail InsufficientSelectors) and for the WMI
    # provider, whose own recording is not available.
    reason = (
        "The WS-Management service cannot process the request because the request contained invalid selectors "
        "for the resource. "
    )
    inner = provider_fault(CODE_INVALID_SELECTORS, machine, f"{reason}{message} ", provider=provider)
    detail = (
        f"<w:FaultDetail>http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/{detail_kind}</w:FaultDetail>"
        + wsman_fault_detail(CODE_INVALID_SELECTORS, machine, inner)
    )
    return SoapFault(action=FAULT_WSMAN, code="s:Sender", subcode="w:InvalidSelectors", reason=reason, detail=detail)


def timed_out(machine: str) -> SoapFault:
    """Exactly the shape of the recorded response in pypsrp's test data (``test_winrs_operation_timeout.yml``)."""
    reason = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "
    return SoapFault(
        action=FAULT_WSMAN,
        code="s:Receiver",
        subcode="w:TimedOut",
        reason=reason,
        detail=wsman_fault_detail(CODE_TIMED_OUT, machine, xml_text(reason)),
    )


def invalid_enumeration_context(machine: str, context: str) -> SoapFault:
    reason = (
        "The WS-Enumeration context in the enumeration is not valid. Enumeration may have been completed or "
        "canceled. You cannot use this enumeration context anymore. Start a new enumeration. "
    )
    return SoapFault(
        action=FAULT_ENUMERATION,
        code="s:Receiver",
        subcode="n:InvalidEnumerationContext",
        reason=reason,
        detail=wsman_fault_detail(CODE_INVALID_ENUMERATION_CONTEXT, machine, xml_text(f"{reason}Context: {context} ")),
    )


def cannot_process_filter(
    machine: str, namespace: str, query: str, message: str, *, status_code: int | None = None
) -> SoapFault:
    """The WMI-provider filter fault recorded from Windows Server 2008 R2 (WinRb/WinRM test data,
    ``soap_fault_v2.xml``); ``status_code`` is the WMI error of ``__ExtendedStatus`` (nil in that recording)."""
    status = extended_status(namespace, operation="ExecQuery", parameter_info=query, status_code=status_code)
    inner = provider_fault(CODE_CANNOT_PROCESS_FILTER, machine, message, extended_status=status)
    return SoapFault(
        action=FAULT_ENUMERATION,
        code="s:Sender",
        subcode="n:CannotProcessFilter",
        reason="The data source could not process the filter. The filter might be missing or it might be invalid. "
        "Change the filter and try the request again.  ",
        detail=wsman_fault_detail(CODE_CANNOT_PROCESS_FILTER, machine, inner),
    )


def dialect_unavailable(machine: str, dialect: str) -> SoapFault:
    reason = (
        "The filter dialect (the type associated with the filter) was not supported for this resource. Change "
        "the filter dialect or remove it from the request and try the request again. "
    )
    return SoapFault(
        action=FAULT_ENUMERATION,
        code="s:Sender",
        subcode="n:FilterDialectRequestedUnavailable",
        reason=reason,
        detail=wsman_fault_detail(CODE_DIALECT_UNAVAILABLE, machine, xml_text(f"{reason}Dialect: {dialect} ")),
    )


def unsupported_feature(
    machine: str, message: str, *, fault_detail: str | None = None, code: int | None = None
) -> SoapFault:
    detail = ""
    if fault_detail:
        detail = f"<w:FaultDetail>http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/{fault_detail}</w:FaultDetail>"
    return SoapFault(
        action=FAULT_WSMAN,
        code="s:Sender",
        subcode="w:UnsupportedFeature",
        reason="The WS-Management service does not support the specified feature. Remove the unsupported feature "
        "from the request and retry. ",
        detail=detail + wsman_fault_detail(code or CODE_UNSUPPORTED_FEATURE, machine, xml_text(message + " ")),
    )


def envelope_too_large(machine: str, max_envelope_size: int) -> SoapFault:
    reason = "The response that the WS-Management service computed exceeds the maximum envelope size in the request. "
    return SoapFault(
        action=FAULT_WSMAN,
        code="s:Sender",
        subcode="w:EncodingLimit",
        reason=reason,
        detail="<w:FaultDetail>http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/MaxEnvelopeSize</w:FaultDetail>"
        + wsman_fault_detail(CODE_ENVELOPE_TOO_LARGE, machine, xml_text(f"{reason}Limit: {max_envelope_size} ")),
    )


E_ACCESSDENIED = 0x80070005


def internal_error(machine: str, message: str, *, code: int = CODE_PROVIDER_FAILURE) -> SoapFault:
    return SoapFault(
        action=FAULT_WSMAN,
        code="s:Receiver",
        subcode="w:InternalError",
        reason=f"The WS-Management service cannot process the request. {message} ",
        detail=wsman_fault_detail(code, machine, xml_text(message + " ")),
    )


def access_denied(machine: str) -> SoapFault:
    # Assumption: WinRM's own access-denied fault (WSManFault Code 5, "Access is denied.") is used for every
    # access check, including those the WMI classes make; no recording of a WMI-level denial is available.
    reason = "Access is denied. "
    return SoapFault(
        action=FAULT_WSMAN,
        code="s:Sender",
        subcode="w:AccessDenied",
        reason=reason,
        detail=wsman_fault_detail(CODE_ACCESS_DENIED, machine, xml_text(reason)),
    )


def winrm_access_denied(machine: str) -> SoapFault:
    """What WinRM answers an authenticated account its security descriptors refuse: HTTP 500, ``s:Receiver`` /
    ``w:InternalError``, WSManFault code 2147942405 (0x80070005), "Access is denied." (as pywinrm reports a
    real host's answer in wazuh/wazuh-ansible issue #581)."""
    reason = "Access is denied. "
    return SoapFault(
        action=FAULT_WSMAN,
        code="s:Receiver",
        subcode="w:InternalError",
        reason=reason,
        detail=wsman_fault_detail(E_ACCESSDENIED, machine, xml_text(reason)),
    )


def cim_fault(
    error: cim.CimError,
    *,
    machine: str,
    namespace: str,
    operation: str,
    object_path: str,
) -> SoapFault:
    """Render a :class:`cim.CimError` raised by the machine side like Windows would.

    ``operation`` is the WMI operation (``ExecMethod``, ``GetObject``, ``ExecQuery``) and ``object_path`` the
    object it addressed; both land in ``__ExtendedStatus`` as in the recorded provider fault.
    """
    if isinstance(error, cim.AccessDenied):
        return access_denied(machine)
    if isinstance(error, cim.InvalidSelectors):
        return invalid_selectors(machine, error.message)
    if isinstance(error, (cim.InstanceNotFound, cim.ClassNotFound)):
        # Assumption: the outer shape is the recorded a:DestinationUnreachable (see resource_not_found); the
        # nested WMI provider fault carries the WMI status so a client can tell "no instance" (0x80041002)
        # from "no class" (0x80041010).
        hresult = WBEM_E_NOT_FOUND if isinstance(error, cim.InstanceNotFound) else WBEM_E_INVALID_CLASS
        message = "Not found " if hresult == WBEM_E_NOT_FOUND else CLASS_NOT_FOUND_MESSAGE
        status = extended_status(namespace, operation=operation, parameter_info=object_path, status_code=hresult)
        inner = provider_fault(hresult, machine, f"{message}{error.message} ", extended_status=status)
        return resource_not_found(machine, object_path, provider_detail=inner)
    if isinstance(error, cim.MethodNotFound):
        # Assumption: an unknown method is an unknown action URI to WinRM (a:ActionNotSupported); the nested
        # WMI status is WBEM_E_INVALID_METHOD.
        status = extended_status(
            namespace, operation=operation, parameter_info=object_path, status_code=WBEM_E_INVALID_METHOD
        )
        inner = provider_fault(
            WBEM_E_INVALID_METHOD, machine, f"Invalid method {error.message} ", extended_status=status
        )
        return SoapFault(
            action=FAULT_ADDRESSING,
            code="s:Sender",
            subcode="a:ActionNotSupported",
            reason="The WS-Management service does not support the action specified in the request. ",
            detail=wsman_fault_detail(CODE_ACTION_NOT_SUPPORTED, machine, inner),
        )
    if isinstance(error, cim.InvalidParameter):
        # Assumption: w:InvalidParameter (ERROR_WSMAN_INVALID_PARAMETER) around WBEM_E_INVALID_PARAMETER.
        status = extended_status(
            namespace, operation=operation, parameter_info=object_path, status_code=WBEM_E_INVALID_PARAMETER
        )
        inner = provider_fault(
            WBEM_E_INVALID_PARAMETER, machine, f"Invalid parameter {error.message} ", extended_status=status
        )
        return SoapFault(
            action=FAULT_WSMAN,
            code="s:Sender",
            subcode="w:InvalidParameter",
            reason="The WS-Management service cannot process the request because a parameter for the operation "
            "is not valid. ",
            detail=wsman_fault_detail(CODE_INVALID_PARAMETER, machine, inner),
        )
    hresult = error.hresult if isinstance(error, cim.ProviderError) else WBEM_E_FAILED
    # Assumption: no recording shows the fault of a WMI method failing with an HRESULT (e.g. an SPP
    # error). This uses the nested WMI-provider shape of the recorded WQL fault (ProviderFault with
    # __ExtendedStatus) under s:Receiver / w:InternalError, with the HRESULT as both WSManFault Codes and as
    # the __ExtendedStatus StatusCode, and Windows' "unknown error: HRESULT 0x..." wording as the reason.
    status = extended_status(
        namespace, operation=operation, parameter_info=object_path, status_code=hresult, description=error.message
    )
    inner = provider_fault(hresult, machine, error.message.rstrip() + " ", extended_status=status)
    return SoapFault(
        action=FAULT_WSMAN,
        code="s:Receiver",
        subcode="w:InternalError",
        reason="The WS-Management service cannot process the request. The WMI service or the WMI provider "
        f"returned an unknown error: HRESULT 0x{hresult:08x} ",
        detail=wsman_fault_detail(hresult, machine, inner),
    )
