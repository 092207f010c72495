"""One adapter per client: the same work for each, so their costs compare.

The work of one request: build the request for `to` (a list of numbers) and a fixed text,
serialize it, POST it over a kept-alive connection, parse the answer and read every recipient's
(to, apiMessageId, accepted). `send(to)` returns that list, so a warm-up can check that the
client really read the answer. Each adapter imports its client in `__init__`, so a worker
process loads only its own client (and cold imports stay comparable).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import urlsplit

API_KEY = "bench-key"
CONTENT = "Hello from the clickatell-sms benchmark"
OPENAPI_PATH_ENV = "BENCH_OPENAPI_CLIENT"
"""Where the OpenAPI Generator client was generated (set by the orchestrator)."""

Row = tuple[Any, Any, Any]
JSON_HEADERS = {
    "Authorization": API_KEY,
    "Content-Type": "application/json",
    "Accept": "application/json",
}
XML_HEADERS = {
    "Authorization": API_KEY,
    "Content-Type": "application/xml",
    "Accept": "application/xml",
}


class Adapter:
    """Base: one client, one format, one base URL."""

    def __init__(self, base_url: str, fmt: str) -> None:
        self.base_url = base_url
        self.fmt = fmt
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80

    def send(self, to: list[str]) -> list[Row]:
        raise NotImplementedError

    def run_many(self, lists: list[list[str]]) -> None:
        """Send each list in turn (the timed loop; async adapters run it inside their loop)."""
        send = self.send
        for to in lists:
            send(to)

    def close(self) -> None:
        """Release connections (most adapters have nothing to do)."""


# -- plain codecs shared by the floor and the HTTP-library peers --------------------------------


def json_encode(to: list[str]) -> bytes:
    import json

    return json.dumps({"content": CONTENT, "to": to}).encode()


def json_decode(data: bytes) -> list[Row]:
    import json

    doc = json.loads(data)
    return [(m["to"], m["apiMessageId"], m["accepted"]) for m in doc["messages"]]


def xml_encode(to: list[str]) -> bytes:
    from xml.etree.ElementTree import Element, SubElement, tostring

    root = Element("SendMessageRequest")
    SubElement(root, "Content").text = CONTENT
    for number in to:
        SubElement(root, "To").text = number
    data: bytes = tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def xml_decode(data: bytes) -> list[Row]:
    from xml.etree.ElementTree import fromstring

    root = fromstring(data)
    return [
        (m.findtext("To"), m.findtext("ApiMessageId"), m.findtext("Accepted") == "true")
        for m in root.iter("Message")
    ]


Codec = tuple[Callable[[list[str]], bytes], Callable[[bytes], list[Row]], dict[str, str]]


def _codec(fmt: str) -> Codec:
    if fmt == "xml":
        return xml_encode, xml_decode, XML_HEADERS
    return json_encode, json_decode, JSON_HEADERS


# -- the floor and the plain HTTP libraries ---------------------------------------------------


class Floor(Adapter):
    """The floor: raw urllib3, one HTTPConnectionPool (keep-alive, no PoolManager routing), with
    json.dumps/loads or a hand-built xml.etree document, and no checks at all."""

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        import urllib3

        self.pool = urllib3.HTTPConnectionPool(self.host, self.port, maxsize=1)
        self.encode, self.decode, self.headers = _codec(fmt)

    def send(self, to: list[str]) -> list[Row]:
        r = self.pool.urlopen("POST", "/messages", body=self.encode(to), headers=self.headers)
        return self.decode(r.data)


class Bare(Adapter):
    """The transport library alone: the floor's pool posting a body made before the clock
    starts and reading the answer's bytes, parsing nothing. The facade's CPU less this one's is
    the SDK's own work per send (`own_us`)."""

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        import urllib3

        self.pool = urllib3.HTTPConnectionPool(self.host, self.port, maxsize=1)
        self.encode, self.decode, self.headers = _codec(fmt)
        self.bodies: dict[int, bytes] = {}

    def send(self, to: list[str]) -> list[Row]:
        body = self.bodies.get(len(to)) or self.bodies.setdefault(len(to), self.encode(to))
        data = self.pool.urlopen("POST", "/messages", body=body, headers=self.headers).data
        # Nothing parsed: rows enough for the warm-up's check, made in C.
        return [(to[-1], "id", True)] * len(to) if data else []


class Requests(Adapter):
    """requests.Session with the floor's codecs."""

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        import requests

        self.session = requests.Session()
        self.url = base_url + "/messages"
        self.encode, self.decode, self.headers = _codec(fmt)

    def send(self, to: list[str]) -> list[Row]:
        r = self.session.post(self.url, data=self.encode(to), headers=self.headers)
        return self.decode(r.content)

    def close(self) -> None:
        self.session.close()


class Urllib3PoolManager(Adapter):
    """Reference: urllib3's PoolManager (routing each request by URL) + the floor's codecs."""

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        import urllib3

        self.pm = urllib3.PoolManager()
        self.url = base_url + "/messages"
        self.encode, self.decode, self.headers = _codec(fmt)

    def send(self, to: list[str]) -> list[Row]:
        r = self.pm.request("POST", self.url, body=self.encode(to), headers=self.headers)
        return self.decode(r.data)


class HttpClient(Adapter):
    """Reference: the standard library's http.client on one connection + the floor's codecs."""

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        import http.client

        self.conn = http.client.HTTPConnection(self.host, self.port)
        self.encode, self.decode, self.headers = _codec(fmt)

    def send(self, to: list[str]) -> list[Row]:
        self.conn.request("POST", "/messages", body=self.encode(to), headers=self.headers)
        return self.decode(self.conn.getresponse().read())

    def close(self) -> None:
        self.conn.close()


# -- SDKs and generated clients --------------------------------------------------------------


class ClickatellPlatform(Adapter):
    """PyPI `clickatell-platform` (its `Rest` class), pointed at the local server.

    The package builds `'https://' + self.endpoint + '/' + action` and a new `httplib2.Http()`
    for every request. `endpoint` is a class attribute meant to be set, so it points at the
    local server; the scheme is hard-coded, so a subclass repeats `Transport.request` (the same
    six lines: new Http, urlencode, json.dumps, request, merge) with `http://`. Nothing in
    httplib2 or urllib3 is patched. A new connection per request is the package's own cost.
    """

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        import json
        import urllib.parse

        import httplib2
        from clickatell.rest import Rest

        endpoint = f"{self.host}:{self.port}"

        class LocalRest(Rest):  # type: ignore[misc]
            def request(
                self, action: str, data: Any = None, headers: Any = None, method: str = "GET"
            ) -> Any:
                data = data or {}
                headers = {
                    "Authorization": self.apiKey,
                    "Content-Type": "application/json",
                    "Accept": "application/json",
                }
                http = httplib2.Http()
                body = urllib.parse.urlencode(data)
                url = "http://" + self.endpoint + "/" + action
                url = (url + "?" + body) if method == "GET" else url
                resp, content = http.request(url, method, headers=headers, body=json.dumps(data))
                return self.merge(resp, {"body": content})

        LocalRest.endpoint = endpoint
        self.client = LocalRest(API_KEY)

    def send(self, to: list[str]) -> list[Row]:
        out = self.client.sendMessage(to, CONTENT)
        return [(m["to"], m["apiMessageId"], m["accepted"]) for m in out["messages"]]


class OpenApiGenerator(Adapter):
    """OpenAPI Generator's `python` client, generated from spec/openapi.yaml at bench time."""

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        path = os.environ.get(OPENAPI_PATH_ENV)
        if not path:
            raise RuntimeError("OpenAPI Generator client was not generated (see RESULTS.md)")
        if path not in sys.path:
            sys.path.insert(0, path)
        import clickatell_og

        config = clickatell_og.Configuration(host=base_url, api_key={"apiKeyHeader": API_KEY})
        self.og = clickatell_og
        self.api = clickatell_og.MessagesApi(clickatell_og.ApiClient(config))

    def send(self, to: list[str]) -> list[Row]:
        request = self.og.SendMessageRequest(content=CONTENT, to=to)
        out = self.api.send_message(request)
        return [(m.to, m.api_message_id, m.accepted) for m in out.messages]


class Wire(Adapter):
    """Reference: our generated layer alone (clickatell_wire operations + transport, no facade)."""

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        from clickatell_wire import models, operations
        from clickatell_wire.transport import Transport

        self.transport = Transport(api_key=API_KEY, base_url=base_url)
        self.ops = operations
        if fmt == "xml":
            from clickatell_wire.xml.messages import SendMessageRequest

            self.request_type: Any = SendMessageRequest
        else:
            self.request_type = models.SendMessageRequest

    def send(self, to: list[str]) -> list[Row]:
        response = self.ops.send_message(self.transport, self.request_type(content=CONTENT, to=to))
        doc: Any = self.ops.decode_send_message(response)
        items = doc.messages.message if self.fmt == "xml" else doc.messages
        return [(m.to, m.api_message_id, m.accepted) for m in items]

    def close(self) -> None:
        self.transport.close()


class Xsdata(Adapter):
    """Reference: xsdata's generic XmlSerializer/XmlParser on our bindings + urllib3 PoolManager."""

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        import urllib3
        from clickatell_wire.xml.messages import SendMessageRequest, SendMessagesResponse
        from xsdata.formats.dataclass.parsers import XmlParser
        from xsdata.formats.dataclass.serializers import XmlSerializer

        self.pm = urllib3.PoolManager()
        self.url = base_url + "/messages"
        self.serializer = XmlSerializer()
        self.parser = XmlParser()
        self.request_type = SendMessageRequest
        self.response_type = SendMessagesResponse

    def send(self, to: list[str]) -> list[Row]:
        body = self.serializer.render(self.request_type(content=CONTENT, to=to)).encode()
        r = self.pm.request("POST", self.url, body=body, headers=XML_HEADERS)
        doc = self.parser.from_bytes(r.data, self.response_type)
        messages = doc.messages.message if doc.messages else []
        return [(m.to, m.api_message_id, m.accepted) for m in messages]


class Facade(Adapter):
    """Our facade: `clickatell_sms.Client(format=...)`, `send(to=..., content=...)`."""

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        try:
            from clickatell_sms import Client
        except ImportError as exc:
            raise RuntimeError(f"not available: clickatell_sms.Client ({exc})") from None

        self.client = Client(api_key=API_KEY, base_url=base_url, format=cast(Any, fmt))
        self.client.__enter__()

    def send(self, to: list[str]) -> list[Row]:
        results = self.client.send(to, CONTENT)
        return [(r.number, r.api_message_id, r.accepted) for r in results]

    def close(self) -> None:
        self.client.__exit__(None, None, None)


class AsyncAdapter(Adapter):
    """An asyncio client: one event loop per adapter; the timed loop runs inside it, so the
    loop's own start-up is not counted per request."""

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        import asyncio

        self.loop = asyncio.new_event_loop()

    async def asend(self, to: list[str]) -> list[Row]:
        raise NotImplementedError

    def send(self, to: list[str]) -> list[Row]:
        return self.loop.run_until_complete(self.asend(to))

    def run_many(self, lists: list[list[str]]) -> None:
        async def run() -> None:
            asend = self.asend
            for to in lists:
                await asend(to)

        self.loop.run_until_complete(run())

    async def aclose(self) -> None:
        """Release connections."""

    def close(self) -> None:
        self.loop.run_until_complete(self.aclose())
        self.loop.close()


class AsyncFloor(AsyncAdapter):
    """The async floor: aiohttp's ClientSession used directly + the floor's JSON codec."""

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        import aiohttp

        async def make() -> Any:
            return aiohttp.ClientSession()

        self.session = self.loop.run_until_complete(make())
        self.url = base_url + "/messages"
        self.encode, self.decode, self.headers = _codec(fmt)

    async def asend(self, to: list[str]) -> list[Row]:
        async with self.session.post(self.url, data=self.encode(to), headers=self.headers) as r:
            return self.decode(await r.read())

    async def aclose(self) -> None:
        await self.session.close()


class AsyncFacade(AsyncAdapter):
    """Our asyncio facade: `clickatell_sms.AsyncClient`, `await send(to, content)`."""

    def __init__(self, base_url: str, fmt: str) -> None:
        super().__init__(base_url, fmt)
        from clickatell_sms import AsyncClient

        self.client = AsyncClient(api_key=API_KEY, base_url=base_url, format=cast(Any, fmt))

    async def asend(self, to: list[str]) -> list[Row]:
        results = await self.client.send(to, CONTENT)
        return [(r.number, r.api_message_id, r.accepted) for r in results]

    async def aclose(self) -> None:
        await self.client.close()


@dataclass(frozen=True)
class Spec:
    """A client in the table: label, formats, adapter, cold-import statement, quick-mode member."""

    label: str
    formats: tuple[str, ...]
    factory: type[Adapter]
    import_stmt: str
    quick: bool = False
    note: str = ""
    repeat: bool = False
    """Send the same recipients in every request (default: new numbers in every request)."""
    paired: str | None = None
    """A client run in the same process, in alternating slices of each round, whose CPU is
    subtracted from this one's for `own_us` (see `worker.Runner.run`)."""


CLIENTS: dict[str, Spec] = {
    "floor": Spec(
        "floor: urllib3 HTTPConnectionPool + json / xml.etree",
        ("json", "xml"),
        Floor,
        "import urllib3, json, xml.etree.ElementTree",
        quick=True,
    ),
    "bare": Spec(
        "ref: urllib3 HTTPConnectionPool alone (a ready body, no parse)",
        ("json",),
        Bare,
        "import urllib3",
        quick=True,
        note="JSON only: own_us is measured on JSON",
    ),
    "facade": Spec(
        "clickatell_sms facade (Client.send)",
        ("json", "xml"),
        Facade,
        "from clickatell_sms import Client",
        quick=True,
        paired="bare",
    ),
    "async-floor": Spec(
        "async floor: aiohttp ClientSession + json",
        ("json",),
        AsyncFloor,
        "import aiohttp, json",
        quick=True,
        note="JSON only: the async rows compare JSON",
    ),
    "async-facade": Spec(
        "clickatell_sms AsyncClient (await send)",
        ("json",),
        AsyncFacade,
        "from clickatell_sms import AsyncClient",
        quick=True,
        note="JSON only: the async rows compare JSON",
    ),
    "facade-repeat": Spec(
        "clickatell_sms facade, same recipients in every request",
        ("json", "xml"),
        Facade,
        "from clickatell_sms import Client",
        repeat=True,
    ),
    "wire": Spec(
        "ref: clickatell_wire alone (generated ops + transport)",
        ("json", "xml"),
        Wire,
        "import clickatell_wire.operations",
    ),
    "requests": Spec(
        "requests.Session + json / xml.etree", ("json", "xml"), Requests, "import requests"
    ),
    "clickatell-platform": Spec(
        "clickatell-platform (Rest, httplib2)",
        ("json",),
        ClickatellPlatform,
        "import clickatell.rest",
        note="JSON only: the package has no XML support",
    ),
    "openapi-generator": Spec(
        "OpenAPI Generator python (urllib3 + pydantic)",
        ("json",),
        OpenApiGenerator,
        "import clickatell_og",
        note="JSON only: the generated client has no XML (de)serializer",
    ),
    "xsdata": Spec(
        "ref: xsdata XmlSerializer/XmlParser + urllib3",
        ("xml",),
        Xsdata,
        "import urllib3, clickatell_wire.xml.messages, xsdata.formats.dataclass.parsers, "
        "xsdata.formats.dataclass.serializers",
    ),
    "urllib3-poolmanager": Spec(
        "ref: urllib3 PoolManager + json / xml.etree",
        ("json", "xml"),
        Urllib3PoolManager,
        "import urllib3, json, xml.etree.ElementTree",
    ),
    "http.client": Spec(
        "ref: stdlib http.client + json / xml.etree",
        ("json", "xml"),
        HttpClient,
        "import http.client, json, xml.etree.ElementTree",
    ),
}
