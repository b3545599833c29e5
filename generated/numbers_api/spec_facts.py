"""The spec's facts the generator drops, for numbers_async, its sandbox and its CLI.

Written by scripts/spec_facts.py from the spec (`make generate`); never edit by hand.
"""

from typing import Final, NamedTuple


class Parameter(NamedTuple):
    """One query parameter of the operation, with its JSON Schema constraints."""

    name: str  # on the wire
    python_name: str  # the generated endpoint's keyword argument
    required: bool
    type: str  # JSON Schema type: string, integer, number or boolean
    default: str | int | float | bool | None
    pattern: str | None
    minimum: int | float | None
    maximum: int | float | None
    enum: tuple[str | int, ...] | None
    description: str


class Field(NamedTuple):
    """One property of a schema, in spec order."""

    name: str  # in JSON
    python_name: str  # the generated model's attribute
    required: bool
    type: str  # string, integer, number, boolean, array or object
    items: str | None  # an array's item type
    schema: str | None  # the schema an object (or an array's objects) refers to
    # Listed values (enum, or a const; an array's: its items'); open: a value not listed is kept.
    enum: tuple[str | int, ...] | None
    example: object  # the schema's example (what the sandbox sends for a field it has no data for)
    # Its JSON Schema format (date-time, uuid...), an array's: its items'. The generated model
    # converts some formatted values; numbers_async builds those through it (_compiled_build.py).
    format: str | None


OPERATION_ID: Final = "searchAvailableNumbers"
METHOD: Final = "GET"
PATH: Final = "/numbers/available"
PARAMETERS: Final[tuple[Parameter, ...]] = (
    Parameter(
        name="countryCode",
        python_name="country_code",
        required=True,
        type="string",
        default=None,
        pattern="^[A-Z]{2}$",
        minimum=None,
        maximum=None,
        enum=None,
        description="ISO 3166-1 alpha-2 country code (e.g., US, CA)",
    ),
    Parameter(
        name="features",
        python_name="features",
        required=False,
        type="string",
        default=None,
        pattern=None,
        minimum=None,
        maximum=None,
        enum=None,
        description="Comma-separated",
    ),
    Parameter(
        name="areaCode",
        python_name="area_code",
        required=False,
        type="string",
        default=None,
        pattern="^[0-9]{1,8}$",
        minimum=None,
        maximum=None,
        enum=None,
        description="National destination / area code filter",
    ),
    Parameter(
        name="limit",
        python_name="limit",
        required=False,
        type="integer",
        default=10,
        pattern=None,
        minimum=1,
        maximum=50,
        enum=None,
        description="Max results (default 10, max 50)",
    ),
)
# limit's maximum: the most numbers one request returns.
PAGE_MAX: Final = 50
# Each documented status and its JSON body's schema (None: no body documented).
STATUSES: Final[dict[int, str | None]] = {
    200: "AvailableNumbersResponse",
    400: "ErrorResponse",
    401: None,
    402: "ErrorResponse",
    500: None,
    502: "ErrorResponse",
}
SCHEMAS: Final[dict[str, tuple[Field, ...]]] = {
    "AvailableNumbersResponse": (
        Field(
            name="numbers",
            python_name="numbers",
            required=True,
            type="array",
            items="object",
            schema="AvailableNumber",
            enum=None,
            example=None,
            format=None,
        ),
    ),
    "AvailableNumber": (
        Field(
            name="phoneNumber",
            python_name="phone_number",
            required=True,
            type="string",
            items=None,
            schema=None,
            enum=None,
            example=None,
            format=None,
        ),
        Field(
            name="locality",
            python_name="locality",
            required=False,
            type="string",
            items=None,
            schema=None,
            enum=None,
            example=None,
            format=None,
        ),
        Field(
            name="administrativeArea",
            python_name="administrative_area",
            required=False,
            type="string",
            items=None,
            schema=None,
            enum=None,
            example=None,
            format=None,
        ),
        Field(
            name="phoneNumberType",
            python_name="phone_number_type",
            required=False,
            type="string",
            items=None,
            schema=None,
            enum=None,
            example=None,
            format=None,
        ),
        Field(
            name="features",
            python_name="features",
            required=False,
            type="array",
            items="string",
            schema=None,
            enum=None,
            example=None,
            format=None,
        ),
    ),
    "ErrorResponse": (
        Field(
            name="trackingId",
            python_name="tracking_id",
            required=True,
            type="string",
            items=None,
            schema=None,
            enum=None,
            example=None,
            format=None,
        ),
        Field(
            name="error",
            python_name="error",
            required=True,
            type="object",
            items=None,
            schema="ErrorDetail",
            enum=None,
            example=None,
            format=None,
        ),
    ),
    "ErrorDetail": (
        Field(
            name="code",
            python_name="code",
            required=True,
            type="string",
            items=None,
            schema=None,
            enum=None,
            example=None,
            format=None,
        ),
        Field(
            name="message",
            python_name="message",
            required=True,
            type="string",
            items=None,
            schema=None,
            enum=None,
            example=None,
            format=None,
        ),
        Field(
            name="fix",
            python_name="fix",
            required=False,
            type="string",
            items=None,
            schema=None,
            enum=None,
            example=None,
            format=None,
        ),
        Field(
            name="provider",
            python_name="provider",
            required=False,
            type="string",
            items=None,
            schema=None,
            enum=None,
            example=None,
            format=None,
        ),
        Field(
            name="providerCode",
            python_name="provider_code",
            required=False,
            type="string",
            items=None,
            schema=None,
            enum=None,
            example=None,
            format=None,
        ),
    ),
}
# The header carrying the API key, and what precedes the key in its value.
AUTH_HEADER: Final = "Authorization"
AUTH_PREFIX: Final = "Bearer "
# The scheme a 401's WWW-Authenticate names (None: not an HTTP auth scheme).
AUTH_CHALLENGE: Final[str | None] = "Bearer"
