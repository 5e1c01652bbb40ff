"""The hotspot's rectification lifecycle, declared once: the service enforces it and
GET /api/hotspots/lifecycle hands it to the app, which offers the steps and shows the labels."""

from __future__ import annotations

from dataclasses import dataclass

WRITER_ROLES = ("inspector", "supervisor", "admin")
SUPERVISOR_ROLES = ("supervisor", "admin")


@dataclass(frozen=True)
class State:
    code: str
    zh: str
    en: str


@dataclass(frozen=True)
class Step:
    """A move from one status to another, who may take it, and the words on its button."""

    source: str
    target: str
    roles: tuple[str, ...]
    zh: str
    en: str


INITIAL = "listed"
STATES = (
    State("listed", "已挂牌", "Listed"),
    State("rectifying", "整治中", "Rectifying"),
    State("acceptance_requested", "待验收", "Awaiting acceptance"),
    State("closed", "已销号", "Closed"),
    State("relapsed", "反弹", "Relapsed"),
)
STEPS = (
    Step("listed", "rectifying", WRITER_ROLES, "开始整治", "Start rectifying"),
    Step("rectifying", "acceptance_requested", WRITER_ROLES, "申请验收", "Request acceptance"),
    # Accepting a rectification, or refusing it, is a supervisor's act.
    Step("acceptance_requested", "closed", SUPERVISOR_ROLES, "验收通过（销号）", "Accept (close)"),
    Step("acceptance_requested", "rectifying", SUPERVISOR_ROLES, "退回整改", "Send back"),
    Step("closed", "relapsed", WRITER_ROLES, "标记反弹", "Mark relapsed"),
    Step("relapsed", "rectifying", WRITER_ROLES, "重新整治", "Rectify again"),
)


def step(source: str, target: str) -> Step | None:
    """The step from ``source`` to ``target``, or None when the lifecycle has none."""
    return next((s for s in STEPS if s.source == source and s.target == target), None)


def next_statuses(source: str) -> list[str]:
    return sorted(s.target for s in STEPS if s.source == source)


def as_answer() -> dict[str, object]:
    """The lifecycle as GET /api/hotspots/lifecycle answers it."""
    return {"initial": INITIAL, "states": STATES, "steps": STEPS}
