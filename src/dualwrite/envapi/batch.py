"""`$batch` for both APIs: requests run in order; a change set is planned whole and written in
ONE `write_rows` call, so it commits or leaves nothing; `Content-ID` references (`$1`) stand
for an earlier request's entity in URLs and `@odata.bind` values. Without `Prefer:
odata.continue-on-error` the first failure ends the batch, which answers with that status."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from dualwrite.envapi.http import ApiRequest, ApiResponse, Planned
from dualwrite.envapi.writes import MAX_OPERATIONS
from dualwrite.odata.errors import ODataError, bad_request
from dualwrite.odata.multipart import (
    ChangeSet,
    PartRequest,
    PartResponse,
    parse_batch,
    render_batch,
)

_REFERENCE = re.compile(r"^\$([A-Za-z0-9_.-]+)(.*)$")


@dataclass(frozen=True)
class BatchHandler:
    """What a platform lends the batch: run one request, plan a write, commit plans together,
    render an error, and find the path of a part's URL below the service root."""

    handle: Callable[[ApiRequest], ApiResponse]
    plan: Callable[[ApiRequest], Planned]
    commit: Callable[[list[Planned]], list[ApiResponse]]
    error: Callable[[ODataError], ApiResponse]
    service_path: Callable[[str], str]  # a part's URL → path?query below the service root
    unexpected: Callable[[Exception, str, str], ODataError]


def _part(response: ApiResponse, content_id: str | None) -> PartResponse:
    return PartResponse(response.status, response.all_headers(), response.body, content_id)


def _request(handler: BatchHandler, part: PartRequest, ids: dict[str, str]) -> ApiRequest:
    url = part.url
    body = part.body
    match = _REFERENCE.match(url)
    if match:
        if match.group(1) not in ids:
            raise bad_request(
                f"Content-ID Reference: '${match.group(1)}' does not exist in the batch context."
            )
        url = ids[match.group(1)] + match.group(2)
    else:
        url = handler.service_path(url)
    for content_id, location in ids.items():
        body = body.replace(f'"${content_id}"'.encode(), f'"/{location}"'.encode())
    path, _, query = url.partition("?")
    return ApiRequest(part.method, path.lstrip("/"), query, part.headers, body, part.prefer)


def _change_set(handler: BatchHandler, changes: ChangeSet) -> list[PartResponse] | PartResponse:
    ids: dict[str, str] = {}
    plans: list[Planned] = []
    current: PartRequest | None = None
    try:
        for part in changes.requests:
            current = part
            if part.method == "GET":
                raise bad_request("A change set holds only writes (POST, PATCH, PUT, DELETE).")
            plan = handler.plan(_request(handler, part, ids))
            plans.append(plan)
            if part.content_id and plan.location:
                ids[part.content_id] = plan.location
        current = None
        responses = handler.commit(plans)
    except ODataError as exc:
        failed = current.content_id if current else _failed_id(changes, plans, exc)
        return _part(handler.error(exc), failed)
    except Exception as exc:
        return _part(handler.error(handler.unexpected(exc, "POST", "$batch")), None)
    return [_part(r, p.content_id) for r, p in zip(responses, changes.requests, strict=True)]


def _failed_id(changes: ChangeSet, plans: list[Planned], exc: ODataError) -> str | None:
    """The Content-ID of the request whose operation failed in the commit."""
    index = getattr(exc, "index", None)
    if index is None:
        return None
    seen = 0
    for part, plan in zip(changes.requests, plans, strict=False):
        seen += len(plan.operations)
        if index < seen:
            return part.content_id
    return None


def run_batch(handler: BatchHandler, req: ApiRequest) -> ApiResponse:
    items = parse_batch(req.body, req.header("content-type"))
    total = sum(len(i.requests) if isinstance(i, ChangeSet) else 1 for i in items)
    if total > MAX_OPERATIONS:
        raise bad_request(
            f"The $batch has {total} requests; a batch can hold at most {MAX_OPERATIONS}.",
            "0x80040203",
        )
    keep_going = req.prefer.continue_on_error
    out: list[PartResponse | list[PartResponse]] = []
    status = 200
    for item in items:
        if isinstance(item, ChangeSet):
            result = _change_set(handler, item)
            out.append(result)
            failed = result if isinstance(result, PartResponse) else None
        else:
            try:
                response = handler.handle(_request(handler, item, {}))
            except ODataError as exc:
                response = handler.error(exc)
            except Exception as exc:
                response = handler.error(handler.unexpected(exc, item.method, item.url))
            failed = _part(response, item.content_id) if response.status >= 400 else None
            out.append(failed or _part(response, item.content_id))
        if failed is not None and not keep_going:
            status = failed.status
            break
    body, content_type = render_batch(out)
    headers = {"Preference-Applied": "odata.continue-on-error"} if keep_going else {}
    return ApiResponse(status, body, headers, content_type)
