# Copyright (c) 2026 winact.kms contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failures explained, in the one shape every module reports them.

A failed task returns ``msg`` and ``error``; ``error`` always has ``hresult`` (hex, or null when the
failure carries none), ``symbol``, ``message``, ``cause`` and ``fix``, plus ``wsman`` (the WS-Management
fault or transport detail) when the failure came over the wire, and the context of the call that failed
(``method``, ``return_value``, ``key``, ``service``, ...) where there is one.
"""

from __future__ import annotations

import typing as t

from ansible_collections.winact.kms.plugins.plugin_utils._errors import explain
from ansible_collections.winact.kms.plugins.plugin_utils._results import ModuleFailure
from ansible_collections.winact.kms.plugins.plugin_utils._wmi import WmiClient
from ansible_collections.winact.kms.plugins.plugin_utils._wsman import (
    E_ACCESSDENIED,
    WSManAccessDenied,
    WSManError,
    WSManUnreachable,
)

ERROR_KEYS: t.Final = ("hresult", "symbol", "message", "cause", "fix")


def error_detail(
    message: str,
    *,
    hresult: str | None = None,
    symbol: str | None = None,
    cause: str | None = None,
    fix: str | None = None,
    **context: t.Any,
) -> dict[str, t.Any]:
    """The ``error`` of a failure that has no HRESULT of its own (or whose text is not the table's)."""
    return {"hresult": hresult, "symbol": symbol, "message": message, "cause": cause, "fix": fix, **context}


def error_for_code(code: int, **context: t.Any) -> dict[str, t.Any]:
    """The ``error`` of an HRESULT: the error table's symbol, message, cause and fix."""
    return {**explain(code).to_dict(), **context}


def fault_hresult(exc: WSManError) -> int | None:
    """The HRESULT a WMI failure carries (an SPP method fails with its SL code as the WMI error number)."""
    if exc.hresult is not None:
        return exc.hresult
    return E_ACCESSDENIED if isinstance(exc, WSManAccessDenied) else None


def error_for_wsman(exc: WSManError, **context: t.Any) -> dict[str, t.Any]:
    """The ``error`` of a WS-Man failure: explained when it carries an HRESULT, its own text otherwise."""
    code = fault_hresult(exc)
    if code is None:
        return error_detail(exc.message, wsman=exc.to_dict(), **context)
    return error_for_code(code, wsman=exc.to_dict(), **context)


def explain_text(code: int) -> str:
    """'0xC004F050 SL_E_INVALID_PRODUCT_KEY: <message>. Likely cause: ... Fix: ...'."""
    info = explain(code)
    symbol = f" {info.symbol}" if info.symbol else ""
    message, cause = _sentence(info.message), _sentence(info.cause)
    return f"{info.hresult_hex}{symbol}: {message} Likely cause: {cause} Fix: {info.fix}"


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def code_failure(code: int, doing: str, **detail: t.Any) -> ModuleFailure:
    """A failure for an HRESULT a method returned or a KMS request logged: '<doing> failed with <explained>'."""
    error = error_for_code(code, **detail.pop("error", {}))
    return ModuleFailure(f"{doing} failed with {explain_text(code)}", error=error, **detail)


def explained_failure(exc: WSManError, doing: str, **detail: t.Any) -> ModuleFailure:
    """A failure for a WMI error: the HRESULT explained when there is one, else the WS-Man detail."""
    code = fault_hresult(exc)
    error = error_for_wsman(exc, **detail.pop("error", {}))
    if code is None:
        return ModuleFailure(f"{doing} failed: {exc.message}", error=error, **detail)
    return ModuleFailure(f"{doing} failed with {explain_text(code)}", error=error, **detail)


def invoke_explained(
    wmi: WmiClient,
    cls: str,
    method: str,
    params: t.Mapping[str, t.Any] | None = None,
    *,
    selectors: t.Mapping[str, str],
    doing: str,
) -> dict[str, t.Any]:
    """Call a licensing method; a WMI error becomes an explained failure, a lost connection stays as it is."""
    try:
        return wmi.invoke(cls, method, params, selectors=selectors)
    except WSManUnreachable:
        raise
    except WSManError as exc:
        raise explained_failure(exc, doing, error={"method": f"{cls}.{method}"}) from exc
