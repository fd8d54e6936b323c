"""Record pages for both sides: list (search, paging, optional auto-refresh to watch sync
arrive), create, edit and delete customers, vendors, groups, currencies and accounts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from dualwrite import records
from dualwrite.api.deps import SessionDep
from dualwrite.bounds import MAX_BIGINT
from dualwrite.control.models import User
from dualwrite.lifecycle import environments
from dualwrite.platform import environments as platform
from dualwrite.stores.datastore import Side
from dualwrite.web.common import FormUser, PageUser, back_to, render

router = APIRouter(include_in_schema=False)
BASE = "/records/{side}/{owner}/{kind}"


def _where(session: Session, user: User, side: str, owner: str) -> records.Where:
    if Side(side) is Side.FO:
        return records.fo_store(environments.get_environment(session, user, owner))
    return records.dataverse_store(user, platform.get_environment(session, user, owner))


def _base(side: str, owner: str, kind: str) -> str:
    return f"/records/{side}/{owner}/{kind}"


@router.get(BASE)
def list_page(
    request: Request,
    side: Side,
    owner: str,
    kind: str,
    session: SessionDep,
    user: PageUser,
    q: str = "",
    offset: Annotated[int, Query(ge=0, le=MAX_BIGINT)] = 0,
    refresh: int = 0,
) -> Response:
    page = records.list_records(_where(session, user, side, owner), kind, q, offset)
    return render(
        request,
        "records.html",
        user,
        records_page=page,
        side=side.value,
        side_label=side.label,
        owner=owner,
        base=_base(side, owner, kind),
        kinds=records.KINDS[side].values(),
        refresh=max(0, min(refresh, 60)),
        page_size=records.PAGE,
    )


@router.get(BASE + "/new")
def new_page(
    request: Request, side: Side, owner: str, kind: str, session: SessionDep, user: PageUser
) -> Response:
    _where(session, user, side, owner)
    record_kind = records.record_kind(side, kind)
    return render(
        request,
        "record.html",
        user,
        kind=record_kind,
        row={},
        fields=record_kind.creatable,
        base=_base(side, owner, kind),
        record_id=None,
        owner=owner,
        side_label=side.label,
    )


@router.get(BASE + "/{record_id}")
def record_page(
    request: Request,
    side: Side,
    owner: str,
    kind: str,
    record_id: str,
    session: SessionDep,
    user: PageUser,
) -> Response:
    where = _where(session, user, side, owner)
    record_kind = records.record_kind(side, kind)
    return render(
        request,
        "record.html",
        user,
        kind=record_kind,
        row=records.get_record(where, kind, record_id),
        fields=record_kind.editable,
        base=_base(side, owner, kind),
        record_id=record_id,
        owner=owner,
        side_label=side.label,
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


@router.post(BASE)
async def create(
    request: Request, side: Side, owner: str, kind: str, session: SessionDep, user: FormUser
) -> Response:
    data = await _form(request)
    where = _where(session, user, side, owner)
    record_id = await run_in_threadpool(records.create_record, where, kind, data)
    return back_to(f"{_base(side, owner, kind)}/{record_id}")


@router.post(BASE + "/{record_id}")
async def update(
    request: Request,
    side: Side,
    owner: str,
    kind: str,
    record_id: str,
    session: SessionDep,
    user: FormUser,
) -> Response:
    data = await _form(request)
    where = _where(session, user, side, owner)
    await run_in_threadpool(records.update_record, where, kind, record_id, data)
    return back_to(f"{_base(side, owner, kind)}/{record_id}?saved=1")


@router.post(BASE + "/{record_id}/delete")
def delete(
    side: Side, owner: str, kind: str, record_id: str, session: SessionDep, user: FormUser
) -> Response:
    records.delete_record(_where(session, user, side, owner), kind, record_id)
    return back_to(_base(side, owner, kind))
