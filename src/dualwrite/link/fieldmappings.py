"""Reading and editing a table map's field mappings on a link: directions and transforms.

Seed 002 lets a Dual-write user edit mappings. An edit needs the map Not running (records
already synced keep their values until an initial sync), is validated together with every
other map of the link, and is logged with what it was before.
"""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from dualwrite.control.models import DualWriteLink, TableMapState, User
from dualwrite.engine.states import MapState
from dualwrite.errors import ERR
from dualwrite.link.fieldedits import (
    Transform,
    apply_transform,
    as_transform,
    describe,
    dump_transforms,
    stored_edits,
)
from dualwrite.link.links import link_maps
from dualwrite.link.tablemaps import log_map_activity, named_maps, require_operator
from dualwrite.maps.model import DIRECTIONS, FieldMap, TableMap
from dualwrite.ops.activity import ActivityKind
from dualwrite.schemas import FieldMappingRead, TransformWrite


def field_mappings(link: DualWriteLink, name: str) -> list[FieldMappingRead]:
    """Every mapping of the map as the link syncs it: keys, company, lookups, then fields."""
    (state,) = named_maps(link, [name])
    tmap = _map(link, name)
    edited = set(json.loads(state.field_directions or "{}"))
    edited |= set(json.loads(state.field_transforms or "{}"))
    fixed = [(fo, dv, "key", "both", "") for fo, dv in tmap.key]
    if tmap.company is not None:
        fixed.append((tmap.company.fo, tmap.company.dv, "company", tmap.company.direction, ""))
    fixed += [(lk.fo, lk.dv, "lookup", lk.direction, f"through {lk.map}") for lk in tmap.lookups]
    rows = [
        FieldMappingRead(
            fo=fo, dataverse=dv, kind=kind, direction=direction, transform=how, edited=False
        )
        for fo, dv, kind, direction, how in fixed
    ]
    for fm in tmap.fields:
        t = as_transform(fm)
        rows.append(
            FieldMappingRead(
                fo=fm.fo,
                dataverse=fm.dv,
                kind="field",
                direction=fm.direction,
                transform=describe(fm),
                edited=fm.dv in edited,
                default=t.default,
                value_map=list(t.pairs) if fm.values else None,
                unmatched_dataverse=t.unmatched_dataverse,
                unmatched_fo=t.unmatched_fo,
            )
        )
    return rows


def _map(link: DualWriteLink, name: str) -> TableMap:
    return next(m for m in link_maps(link) if m.name == name)


def _editable(
    actor: User, link: DualWriteLink, name: str, dataverse_field: str
) -> tuple[TableMapState, TableMap, FieldMap]:
    require_operator(actor, link, "Editing field mappings")
    (state,) = named_maps(link, [name])
    if state.state != MapState.NOT_RUNNING.value:
        raise ERR.MAP_MUST_BE_STOPPED.error(name=name, state=state.state)
    tmap = _map(link, name)
    field = next((f for f in tmap.fields if f.dv == dataverse_field), None)
    if field is None:
        known = ", ".join(f.dv for f in tmap.fields)
        raise ERR.INVALID_INPUT.error(
            field="field",
            problem=f"'{dataverse_field}' is not a field of {name} that can be edited "
            f"(keys and lookups cannot): {known}",
        )
    return state, tmap, field


def set_field_direction(
    session: Session,
    actor: User,
    link: DualWriteLink,
    name: str,
    dataverse_field: str,
    direction: str,
) -> TableMapState:
    """Change a field mapping's direction (fo_to_dv, dv_to_fo, both or ->, <-, <->)."""
    state, _tmap, field = _editable(actor, link, name, dataverse_field)
    wanted = DIRECTIONS.get(direction.strip())
    if wanted is None:
        raise ERR.INVALID_INPUT.error(
            field="direction", problem=f"'{direction}' is not fo_to_dv, dv_to_fo or both"
        )
    edits = stored_edits(link)
    edits.directions.setdefault(name, {})[dataverse_field] = wanted
    link_maps(link, edits)  # DW5003 when the change is impossible (e.g. no way back)
    state.field_directions = json.dumps(edits.directions[name], sort_keys=True)
    message = f"Field {field.fo} ↔ {dataverse_field}: {field.direction} → {wanted}"
    log_map_activity(session, link, actor, name, message, ActivityKind.CONFIGURATION)
    session.flush()
    return state


def parse_pair(text: str, where: str) -> tuple[str, str]:
    """A value map pair typed as "F&O value = Dataverse value" (a CLI option, a form line)."""
    fo_value, sep, dv_value = text.partition("=")
    if not sep:
        raise ERR.INVALID_INPUT.error(
            field=where, problem=f"'{text}' is not 'F&O value = Dataverse value', e.g. Yes = true"
        )
    return fo_value.strip(), dv_value.strip()


def _transform(body: TransformWrite) -> Transform:
    return Transform(
        default=body.default,
        pairs=tuple(body.value_map),
        unmatched_dataverse=body.unmatched_dataverse,
        unmatched_fo=body.unmatched_fo,
    )


def set_field_transform(
    session: Session,
    actor: User,
    link: DualWriteLink,
    name: str,
    dataverse_field: str,
    body: TransformWrite | None,
) -> TableMapState:
    """Replace a field's transform (a default for missing values and/or a value map) on this
    link; None goes back to the solution's. Constants are checked against the columns' types
    and the map is validated again (e.g. a value map must be invertible for both directions)."""
    state, tmap, field = _editable(actor, link, name, dataverse_field)
    edits = stored_edits(link)
    transforms = edits.transforms.setdefault(name, {})
    transform = None if body is None else _transform(body)
    if transform is None:
        transforms.pop(dataverse_field, None)
    else:
        apply_transform(tmap, field, transform, strict=True)  # DW1000 names a bad constant
        transforms[dataverse_field] = transform
    maps = link_maps(link, edits)  # DW5003 names what the edited map would break
    state.field_transforms = dump_transforms(transforms)
    after = next(f for f in next(m for m in maps if m.name == name).fields if f.dv == field.dv)
    before_text, after_text = describe(field) or "none", describe(after) or "none"
    message = f"Field {field.fo} ↔ {dataverse_field}: transform {before_text} → {after_text}"
    if transform is None:
        message += " (the solution's)"
    log_map_activity(session, link, actor, name, message, ActivityKind.CONFIGURATION)
    session.flush()
    return state
