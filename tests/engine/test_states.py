"""Table map states: the seeds' lifecycle, clear refusals, all-or-nothing for several maps."""

from __future__ import annotations

import pytest

from dualwrite.engine.states import (
    TRANSITIONS,
    MapAction,
    MapState,
    allowed_actions,
    next_state,
    next_states,
)
from dualwrite.errors import DualWriteError, InvalidStateError

S, A = MapState, MapAction


def test_full_lifecycle() -> None:
    state = S.NOT_RUNNING
    for action, expected in [
        (A.RUN, S.INITIALIZING),
        (A.INITIALIZED, S.RUNNING),
        (A.PAUSE, S.PAUSED),
        (A.RESUME, S.RESUMING),
        (A.CAUGHT_UP, S.RUNNING),
        (A.STOP, S.NOT_RUNNING),
    ]:
        state = next_state("Customers V3 (accounts)", state, action)
        assert state is expected


@pytest.mark.parametrize("state", list(MapState))
@pytest.mark.parametrize("action", list(MapAction))
def test_every_invalid_action_names_state_and_allowed_actions(
    state: MapState, action: MapAction
) -> None:
    if (state, action) in TRANSITIONS:
        return
    with pytest.raises(InvalidStateError) as err:
        next_state("Vendors V2 (msdyn_vendors)", state, action)
    assert err.value.code == "DW5001"
    assert state.value in err.value.message
    assert "Vendors V2" in err.value.message
    for allowed in allowed_actions(state):
        assert allowed.value in err.value.hint


def test_stop_is_allowed_from_every_active_state() -> None:
    for state in MapState:
        assert (A.STOP in allowed_actions(state)) is (state is not S.NOT_RUNNING)


def test_pausing_several_maps_pauses_none_if_one_is_not_running() -> None:
    maps = [("A", S.RUNNING), ("B", S.NOT_RUNNING), ("C", S.RUNNING)]
    with pytest.raises(DualWriteError) as err:
        next_states(maps, A.PAUSE)
    assert err.value.code == "DW5002"
    assert "'B' is Not running" in err.value.message
    assert "No map was changed" in err.value.message
    assert next_states([("A", S.RUNNING), ("C", S.RUNNING)], A.PAUSE) == [S.PAUSED, S.PAUSED]
