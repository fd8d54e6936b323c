"""The browser session cookie: first-party, HttpOnly, SameSite=Lax, Secure over HTTPS."""

from __future__ import annotations

from fastapi import Request, Response

from dualwrite.api.deps import SESSION_COOKIE


def set_session_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
