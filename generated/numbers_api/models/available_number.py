from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="AvailableNumber")


@_attrs_define
class AvailableNumber:
    """One available number returned from search

    Attributes:
        phone_number (str): E.164
        locality (str | Unset):
        administrative_area (str | Unset):
        phone_number_type (str | Unset): E.g. local, toll_free
        features (list[str] | Unset): E.g. sms, voice, mms
    """

    phone_number: str
    locality: str | Unset = UNSET
    administrative_area: str | Unset = UNSET
    phone_number_type: str | Unset = UNSET
    features: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        phone_number = self.phone_number

        locality = self.locality

        administrative_area = self.administrative_area

        phone_number_type = self.phone_number_type

        features: list[str] | Unset = UNSET
        if not isinstance(self.features, Unset):
            features = self.features

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "phoneNumber": phone_number,
            }
        )
        if locality is not UNSET:
            field_dict["locality"] = locality
        if administrative_area is not UNSET:
            field_dict["administrativeArea"] = administrative_area
        if phone_number_type is not UNSET:
            field_dict["phoneNumberType"] = phone_number_type
        if features is not UNSET:
            field_dict["features"] = features

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        phone_number = d.pop("phoneNumber")

        locality = d.pop("locality", UNSET)

        administrative_area = d.pop("administrativeArea", UNSET)

        phone_number_type = d.pop("phoneNumberType", UNSET)

        features = cast(list[str], d.pop("features", UNSET))

        available_number = cls(
            phone_number=phone_number,
            locality=locality,
            administrative_area=administrative_area,
            phone_number_type=phone_number_type,
            features=features,
        )

        available_number.additional_properties = d
        return available_number

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
