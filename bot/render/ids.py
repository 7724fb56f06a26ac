"""Action, block and callback ids the bot's messages carry, in one place."""

from enum import StrEnum


class Action(StrEnum):
    RUN_COMMAND = "run_command"  # value: slash command text, e.g. "/oncall engagement"
    SHARE = "share_in_channel"  # value: slash command text to post in channel
    OPEN_INCIDENT = "open_incident"  # value: pipeline id
    RUNBOOK = "show_runbook"  # value: pipeline id
    SCHEDULE = "show_schedule"  # value: pipeline id
    PAGE_NOW = "page_now"  # value: pipeline id
    INCIDENT_ACK = "incident_ack"  # value: incident id
    INCIDENT_ESCALATE = "incident_escalate"
    INCIDENT_RESOLVE = "incident_resolve"
    CHECKLIST_TICK = "checklist_tick"
    MEETING_ACCEPT = "meeting_accept"
    MEETING_DECLINE = "meeting_decline"
    NOTIFY_TEST = "notify_test"  # value: contact method id (the /oncall notify form)
    NOTIFY_REMOVE = "notify_remove"
    NOTIFY_UP = "notify_up"


class CoverAction(StrEnum):
    TAKE = "cover_take"  # value: "REQUEST:N"
    TAKE_ALL = "cover_take_all"  # value: "REQUEST:CHANNEL"
    UNTAKE = "cover_untake"  # value: "REQUEST:N"
    NEED = "cover_need"  # on the before-shift DM; value: "START:END" (epoch seconds)


class Callback(StrEnum):
    OPEN_INCIDENT_SHORTCUT = "open_incident_shortcut"
    OPEN_INCIDENT_MODAL = "open_incident_modal"
    COVER_MODAL = "cover_modal"
    NOTIFY_MODAL = "notify_modal"
