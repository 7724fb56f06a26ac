"""The pydantic models of the events the intake accepts, and their conversion to ``AlertEvent``.

- ``PagerDutyEvent``: PagerDuty Events API v2 (``POST /v2/enqueue``), field for field;
- ``AlertmanagerWebhook``: Prometheus Alertmanager's webhook, payload version 4;
- ``GenericAlert``: ``POST /api/v1/alerts`` (``summary``, ``severity``, ``dedup_key``, ``action``,
  ``details``, ``links``).

Limits are PagerDuty's: a dedup key of at most 255 characters, a summary of at most 1024. Text
no database can store (NUL, unpaired surrogates) is refused before these models see the body, by
``bot.http.common.read_json`` (a 400 that says where).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.core.alerts import Action
from bot.services.alerts import AlertEvent

SeverityIn = Literal["critical", "error", "warning", "info"]
ActionIn = Literal["trigger", "acknowledge", "resolve"]
DedupKey = Field(default=None, min_length=1, max_length=255)
Summary = Field(min_length=1, max_length=1024)


class _Open(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class PdLink(_Open):
    href: str = Field(min_length=1, max_length=2048)
    text: str | None = Field(default=None, max_length=1024)


class PdImage(_Open):
    src: str = Field(min_length=1, max_length=2048)
    href: str | None = Field(default=None, max_length=2048)
    alt: str | None = Field(default=None, max_length=1024)


class PdPayload(_Open):
    summary: str = Summary
    source: str = Field(min_length=1, max_length=255)
    severity: SeverityIn
    timestamp: str | None = Field(default=None, max_length=64)
    component: str | None = Field(default=None, max_length=255)
    group: str | None = Field(default=None, max_length=255)
    class_: str | None = Field(default=None, alias="class", max_length=255)
    custom_details: Any = None


class PagerDutyEvent(_Open):
    routing_key: str = Field(min_length=1, max_length=256)
    event_action: ActionIn
    dedup_key: str | None = DedupKey
    payload: PdPayload | None = None
    links: list[PdLink] = Field(default_factory=list, max_length=50)
    images: list[PdImage] = Field(default_factory=list, max_length=50)
    client: str | None = Field(default=None, max_length=255)
    client_url: str | None = Field(default=None, max_length=2048)

    @model_validator(mode="after")
    def _needs(self) -> PagerDutyEvent:
        if self.event_action == "trigger" and self.payload is None:
            raise ValueError("'payload' is required for a trigger")
        if self.event_action != "trigger" and not self.dedup_key:
            raise ValueError(f"'dedup_key' is required for {self.event_action}")
        return self

    def event(self) -> AlertEvent:
        key = self.dedup_key or uuid.uuid4().hex
        if self.payload is None:
            return AlertEvent(Action(self.event_action), key)
        p = self.payload
        details: dict[str, Any] = {k: v for k, v in (("component", p.component), ("group", p.group),
                                                     ("class", p.class_), ("timestamp", p.timestamp)) if v}
        if p.custom_details is not None:
            details["custom_details"] = p.custom_details
        links: list[Any] = [{"href": x.href, "text": x.text or x.href} for x in self.links]
        if self.client_url:
            links.append({"href": self.client_url, "text": self.client or self.client_url})
        return AlertEvent(Action(self.event_action), key, p.severity, p.summary, p.source, details or None, links)


class AmAlert(_Open):
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: str | None = Field(default=None, max_length=64)
    endsAt: str | None = Field(default=None, max_length=64)
    generatorURL: str | None = Field(default=None, max_length=2048)
    fingerprint: str | None = Field(default=None, max_length=255)

    def event(self, external_url: str | None) -> AlertEvent:
        key = self.fingerprint or hashlib.sha256(json.dumps(self.labels, sort_keys=True).encode()).hexdigest()[:32]
        if self.status == "resolved":
            return AlertEvent(Action.RESOLVE, key)
        summary = (self.annotations.get("summary") or self.annotations.get("description")
                   or self.labels.get("alertname") or "Alertmanager alert")[:1024]
        severity = _am_severity(self.labels.get("severity"))
        links: list[Any] = []
        if self.generatorURL:
            links.append({"href": self.generatorURL, "text": "Source"})
        if external_url:
            links.append({"href": external_url, "text": "Alertmanager"})
        source = self.labels.get("instance") or self.labels.get("job")
        return AlertEvent(Action.TRIGGER, key, severity, summary, source,
                          {"labels": self.labels, "annotations": self.annotations, "startsAt": self.startsAt}, links)


def _am_severity(label: str | None) -> str:
    """Alertmanager's free-form ``severity`` label as one of ours (``error`` when unknown)."""
    value = (label or "").lower()
    if value in ("critical", "page", "fatal", "emergency", "p1"):
        return "critical"
    if value in ("warning", "warn", "p3"):
        return "warning"
    if value in ("info", "informational", "none", "p4", "p5"):
        return "info"
    return "error"


class AlertmanagerWebhook(_Open):
    version: str = Field(default="4", max_length=8)
    status: Literal["firing", "resolved"] | None = None
    receiver: str | None = Field(default=None, max_length=255)
    externalURL: str | None = Field(default=None, max_length=2048)
    alerts: list[AmAlert] = Field(max_length=1000)

    @model_validator(mode="after")
    def _v4(self) -> AlertmanagerWebhook:
        if self.version != "4":
            raise ValueError(f"payload version {self.version!r} is not supported (4 is)")
        return self


class GenericLink(_Open):
    href: str = Field(min_length=1, max_length=2048)
    text: str | None = Field(default=None, max_length=1024)


class GenericAlert(_Open):
    summary: str | None = Field(default=None, min_length=1, max_length=1024)
    severity: SeverityIn = "error"
    dedup_key: str | None = DedupKey
    action: ActionIn = "trigger"
    source: str | None = Field(default=None, max_length=255)
    details: Any = None
    links: list[GenericLink | str] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _needs(self) -> GenericAlert:
        if self.action == "trigger" and not self.summary:
            raise ValueError("'summary' is required for a trigger")
        if self.action != "trigger" and not self.dedup_key:
            raise ValueError(f"'dedup_key' is required for {self.action}")
        return self

    def event(self) -> AlertEvent:
        links: list[Any] = [x if isinstance(x, str) else {"href": x.href, "text": x.text or x.href}
                            for x in self.links]
        return AlertEvent(Action(self.action), self.dedup_key or uuid.uuid4().hex, self.severity,
                          self.summary or "", self.source, self.details, links)
