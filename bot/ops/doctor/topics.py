"""``doctor``'s channel-topic check: the seed asks the bot to keep channel topics, so the token
needs the scope ``conversations.setTopic`` takes for those channels: ``channels:write.topic``
for a public channel, ``groups:write.topic`` for a private one (the narrowest Slack documents;
``channels:manage`` / ``groups:write`` would also allow renaming, archiving and kicking)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.ops.doctor.report import Report, Status
from bot.ops.doctor.slack import SlackIdentity

if TYPE_CHECKING:
    from bot.seed.schema import SeedIn

PUBLIC_SCOPE = "channels:write.topic"
PRIVATE_SCOPE = "groups:write.topic"


def topic_channels(seed: SeedIn) -> dict[str, list[str]]:
    """Each channel whose topic the seed asks the bot to keep, with its pipelines."""
    out: dict[str, list[str]] = {}
    for p in seed.pipelines:
        channel = (p.topic.channel or p.channel) if p.topic is not None else None
        if channel:
            out.setdefault(channel, []).append(p.id)
    return out


def check_topics(seed: SeedIn, ident: SlackIdentity, report: Report, private: set[str] | None = None) -> None:
    """The token may set the topics the seed asks for (``private``: the channels Slack lists as private)."""
    channels = topic_channels(seed)
    if not channels:
        report.add("channel topics", Status.OK, "the seed keeps no channel topic")
        return
    named = ", ".join(sorted(channels))
    if ident.scopes is None:
        report.add("channel topics", Status.WARN, "Slack did not report the token's scopes",
                   f"check that the app has {PUBLIC_SCOPE} (and {PRIVATE_SCOPE} for private channels)")
        return
    private = private or set()
    need = {PRIVATE_SCOPE if c.lstrip("#") in private else PUBLIC_SCOPE for c in channels}
    missing = sorted(need - set(ident.scopes))
    if missing:
        report.add("channel topics", Status.FAIL,
                   f"the seed keeps the topics of {named}, but the token lacks {', '.join(missing)}: "
                   "topics stay as they are",
                   f"add {', '.join(missing)} to the app's bot scopes (manifest.yaml has {PUBLIC_SCOPE}) and "
                   "reinstall it; or remove `topic:` from those pipelines in the seed")
        return
    report.add("channel topics", Status.OK, f"the token may set the topics of {named}")
