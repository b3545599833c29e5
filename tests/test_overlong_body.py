"""A response whose body runs past its Content-Length leaves bytes on the connection: no engine
may read them as the answer to a later search. The owned pools close that connection (httpx and
httpx2 through the guard in _framing.py; aiohttp by itself)."""

import json
from typing import cast

from helpers import API_KEY
from loopback import LoopbackServer, serve

from numbers_async import NumbersClient
from numbers_async._transports import Transport


def answer(numbers: list[str], length: int | None = None) -> bytes:
    """A 200 carrying ``numbers``, its Content-Length ``length`` when given (else the body's)."""
    body = json.dumps({"numbers": [{"phoneNumber": number} for number in numbers]}).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    return head % (len(body) if length is None else length) + body


SMUGGLED = ["+14155550900", "+14155550901"]


async def test_bytes_past_a_response_never_answer_the_next_search(transport: str) -> None:
    good = answer(["+14155550100"])
    # what the server sends: a good answer, then a whole second answer inside the same body
    server = LoopbackServer(["raw-keep-open", "ok"], raw=good + answer(SMUGGLED))
    async with serve(server):
        client = NumbersClient(
            API_KEY, base_url=server.base_url, transport=cast(Transport, transport), timeout=5
        )
        async with client:
            first = await client.search("US", limit=1)
            second = await client.search("US", limit=2, area_code="212")
    assert [n.phone_number for n in first] == ["+14155550100"]
    assert not {n.phone_number for n in second} & set(SMUGGLED)
    assert len(second) == 2
    assert server.requests == 2
    assert server.connections == 2  # the first connection was not reused
