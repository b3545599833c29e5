from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="ErrorDetail")


@_attrs_define
class ErrorDetail:
    """Structured error details for API error responses.

    Attributes:
        code (str): Machine-readable error code.
        message (str): Human-readable error message.
        fix (str | Unset): Actionable hint for fixing the error.
        provider (str | Unset): Provider that caused the error (e.g. telnyx, ses).
        provider_code (str | Unset): Provider-specific error code.
    """

    code: str
    message: str
    fix: str | Unset = UNSET
    provider: str | Unset = UNSET
    provider_code: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        message = self.message

        fix = self.fix

        provider = self.provider

        provider_code = self.provider_code

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "code": code,
                "message": message,
            }
        )
        if fix is not UNSET:
            field_dict["fix"] = fix
        if provider is not UNSET:
            field_dict["provider"] = provider
        if provider_code is not UNSET:
            field_dict["providerCode"] = provider_code

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        code = d.pop("code")

        message = d.pop("message")

        fix = d.pop("fix", UNSET)

        provider = d.pop("provider", UNSET)

        provider_code = d.pop("providerCode", UNSET)

        error_detail = cls(
            code=code,
            message=message,
            fix=fix,
            provider=provider,
            provider_code=provider_code,
        )

        error_detail.additional_properties = d
        return error_detail

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
