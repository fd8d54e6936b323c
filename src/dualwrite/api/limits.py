"""A limit on request bodies, enforced before anything reads them: without it, the framework
stores an uploaded file of any size (on disk) before a route or the CSRF check runs."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dualwrite.errors import ERR


class LimitBody:
    """Refuses a body over `max_bytes` with DW1010 (413). A declared Content-Length is checked
    at once (the server holds the client to it); a chunked body is read first, up to the
    limit, and handed on only if it stays under it, so the answer is a 413 either way."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise ERR.REQUEST_TOO_LARGE.error(limit=self.max_bytes)
            await self.app(scope, receive, send)
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b""):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        size, more = 0, True
        while more:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                raise ERR.REQUEST_TOO_LARGE.error(limit=self.max_bytes)
            more = message["type"] == "http.request" and message.get("more_body", False)

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
