"""The table map state machine: states, actions and the transitions allowed between them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum

from dualwrite.errors import ERR


class MapState(StrEnum):
    NOT_RUNNING = "Not running"
    INITIALIZING = "Initializing"
    RUNNING = "Running"
    PAUSED = "Paused"
    RESUMING = "Resuming"


class MapAction(StrEnum):
    RUN = "run"  # user: start live sync (Initializing first when an initial sync is asked for)
    PAUSE = "pause"  # user: keep capturing, stop applying
    RESUME = "resume"  # user: play the queue back
    STOP = "stop"  # user: back to Not running
    INITIALIZED = "initialized"  # engine: initial sync copied everything
    CAUGHT_UP = "caught_up"  # engine: the queue of a resumed map is empty


S, A = MapState, MapAction
TRANSITIONS: Mapping[tuple[MapState, MapAction], MapState] = {
    (S.NOT_RUNNING, A.RUN): S.INITIALIZING,
    (S.INITIALIZING, A.INITIALIZED): S.RUNNING,
    (S.INITIALIZING, A.STOP): S.NOT_RUNNING,
    (S.RUNNING, A.PAUSE): S.PAUSED,
    (S.RUNNING, A.STOP): S.NOT_RUNNING,
    (S.PAUSED, A.RESUME): S.RESUMING,
    (S.PAUSED, A.STOP): S.NOT_RUNNING,
    (S.RESUMING, A.CAUGHT_UP): S.RUNNING,
    (S.RESUMING, A.STOP): S.NOT_RUNNING,
}
USER_ACTIONS = (A.RUN, A.PAUSE, A.RESUME, A.STOP)


def allowed_actions(state: MapState) -> list[MapAction]:
    """The user actions valid in `state`, in the order the UI shows them."""
    return [a for a in USER_ACTIONS if (state, a) in TRANSITIONS]


def next_state(name: str, state: MapState, action: MapAction) -> MapState:
    """Where `action` takes a map in `state`, or an error naming the state and what is allowed."""
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        allowed = ", ".join(a.value for a in allowed_actions(state)) or "none"
        raise ERR.INVALID_MAP_ACTION.error(
            action=action.value, name=name, state=state.value, allowed=allowed
        ) from None


def next_states(maps: Sequence[tuple[str, MapState]], action: MapAction) -> list[MapState]:
    """All-or-nothing for several maps: one invalid map refuses the whole action."""
    if len(maps) == 1:  # one map: the single-map message, with the actions allowed now
        return [next_state(maps[0][0], maps[0][1], action)]
    problems = []
    result = []
    for name, state in maps:
        target = TRANSITIONS.get((state, action))
        if target is None:
            problems.append(f"'{name}' is {state.value}")
        else:
            result.append(target)
    if problems:
        raise ERR.INVALID_MAP_ACTION_MANY.error(
            action=action.value, count=len(maps), problems="; ".join(problems)
        )
    return result
