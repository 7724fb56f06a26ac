"""Which pipelines a Slack channel is about (issue 14 §4). Pure: reads the directory only.

A command typed without a pipeline in a channel answers for the channel's pipelines:

1. the pipelines whose own ``channel`` is this channel (``#data-profit``: Profit;
   ``#data-investors``: both aggregates);
2. else the pipelines a team whose channel this is owns as a *primary* owner (``#finance`` and
   ``#risk``: Profit; ``#accounts``: Growth; ``#frontend``: Engagement; ``#analytics``: both
   aggregates). A team that is only a secondary owner everywhere (``#data-eng``) has no
   pipeline of its own: its channel answers as any other channel does (every pipeline);
3. else none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.model import Directory


@dataclass(frozen=True, slots=True)
class ChannelPipelines:
    """The pipelines ``channel`` (``#name``) is about, in seed order, and why: the pipelines' own
    channel (``"pipeline"``) or an owning team's (``"team"``, with the team's id)."""

    channel: str
    pipelines: tuple[str, ...]
    via: Literal["pipeline", "team"]
    team: str | None = None


def normalize_channel(name: str) -> str:
    """``#data-profit`` for ``data-profit``, ``#Data-Profit`` or ``#data-profit``."""
    return "#" + name.strip().lstrip("#").lower()


def pipelines_of_channel(directory: Directory, channel: str | None) -> ChannelPipelines | None:
    """The pipelines ``channel`` (a ``#name`` or bare name; None: unknown) is about, or None."""
    if not channel:
        return None
    name = normalize_channel(channel)
    own = tuple(p.id for p in directory.pipelines.values() if p.channel and normalize_channel(p.channel) == name)
    if own:
        return ChannelPipelines(name, own, "pipeline")
    for team in directory.teams.values():
        if team.channel and normalize_channel(team.channel) == name:
            owned = tuple(p.id for p in directory.pipelines.values() if team.id in p.primary_owners)
            if owned:
                return ChannelPipelines(name, owned, "team", team.id)
    return None
