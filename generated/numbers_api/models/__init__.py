"""Contains all the data models used in inputs/outputs"""

from .available_number import AvailableNumber
from .available_numbers_response import AvailableNumbersResponse
from .error_detail import ErrorDetail
from .error_response import ErrorResponse

__all__ = (
    "AvailableNumber",
    "AvailableNumbersResponse",
    "ErrorDetail",
    "ErrorResponse",
)
