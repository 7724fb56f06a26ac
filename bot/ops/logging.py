"""Logs an operator can use: one line per event, JSON on request, ids attached, secrets removed.

``configure_logging(settings)`` installs one handler on the root logger:

* ``ONCALL_LOG_FORMAT=json``: one JSON object per line (``ts``, ``level``, ``logger``, ``msg``,
  ``request_id``, ``delivery_id``, ``exc`` and any ``extra={...}`` fields); otherwise a text line
  ``2026-11-30T14:00:00.123Z INFO bot.slack [req=ab12cd34] message``. A traceback stays on the
  same line (newlines escaped), so every event is exactly one line in both formats.
* ``request_id`` / ``delivery_id`` come from context variables: set them with
  ``log_context(request_id=...)`` around the handling of a request or a delivery and every line
  logged inside (including from tasks started inside, which copy the context) carries them.
* Redaction: Slack tokens (``xoxb-``, ``xoxp-``, ``xapp-``, ``xoxe-`` ...), the configured
  signing secret, bot/app tokens and database password, and any ``scheme://user:password@``
  URL password are replaced by ``[REDACTED]`` in the message, its arguments, the traceback and
  every extra field. ``redact(text)`` does the same for error messages printed outside logging,
  and ``install_excepthook()`` for a traceback that escapes ``main``.

``ONCALL_LOG_LEVEL`` (default INFO) sets the level.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets as _secrets
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from bot.config import Settings

REDACTED = "[REDACTED]"

request_id_var: ContextVar[str | None] = ContextVar("oncall_request_id", default=None)
delivery_id_var: ContextVar[str | None] = ContextVar("oncall_delivery_id", default=None)

# xoxb- (bot), xoxp- (user), xoxa-/xoxr-/xoxs- (legacy), xoxe- and xoxe.xoxp- (rotating/refresh),
# xapp- (app-level). Everything after the prefix up to a character a token never holds.
_TOKEN = re.compile(r"\bx(?:ox[a-z]|app)(?:\.xox[a-z])?-[A-Za-z0-9-]+")
# scheme://user:password@host -> scheme://user:[REDACTED]@host (``***``, already hidden, is kept)
_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)(?P<pw>(?!\*\*\*@)[^\s@/]+)(?=@)")
# password=... / "password": "..." in DSNs, dicts and reprs
_KEYED_SECRET = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|signing_secret|client_secret)\b['\"]?\s*[=:]\s*['\"]?)"
    r"(?P<pw>[^\s'\",&;)}]+)",
    re.IGNORECASE,
)
# Literal values shorter than this are not registered (redacting "a" everywhere helps nobody).
_MIN_SECRET = 6

_known: set[str] = set()
_known_lock = threading.Lock()

_STANDARD_ATTRS = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "request_id", "delivery_id"}
)


def register_secret(value: str | None) -> None:
    """Redact ``value`` wherever it appears from now on (values under 6 characters are ignored)."""
    if value and len(value) >= _MIN_SECRET:
        with _known_lock:
            _known.add(value)


def register_settings_secrets(settings: Settings) -> None:
    """Register the Slack tokens, the signing secret and the database password of ``settings``."""
    for secret in (settings.slack_bot_token, settings.slack_app_token, settings.slack_signing_secret):
        if secret is not None:
            register_secret(secret.get_secret_value())
    try:
        from sqlalchemy.engine import make_url

        register_secret(make_url(settings.database_url).password)
    except Exception:  # a malformed URL: the URL pattern still hides a password in it
        pass


def redact(text: str) -> str:
    """``text`` without Slack tokens, registered secrets or URL/keyed passwords."""
    if not text:
        return text
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, REDACTED)
    text = _TOKEN.sub(REDACTED, text)
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + REDACTED, text)
    return _KEYED_SECRET.sub(lambda m: m.group("head") + REDACTED, text)


def safe_url(url: str) -> str:
    """A database URL for messages: its password shown as ``***`` (the rest kept for diagnosis)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return redact(_URL_PASSWORD.sub(lambda m: m.group("head") + "***", url))


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return redact(str(value))


def new_request_id() -> str:
    """A short random id for a request or delivery (12 hex digits)."""
    return _secrets.token_hex(6)


@contextlib.contextmanager
def log_context(*, request_id: str | None = None, delivery_id: str | None = None) -> Iterator[None]:
    """Attach ``request_id`` and/or ``delivery_id`` to every line logged inside the block."""
    tokens = []
    if request_id is not None:
        tokens.append((request_id_var, request_id_var.set(request_id)))
    if delivery_id is not None:
        tokens.append((delivery_id_var, delivery_id_var.set(delivery_id)))
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


async def bolt_log_context(body: dict[str, Any], next: Callable[[], Awaitable[Any]]) -> Any:
    """A slack-bolt global middleware (``app.use(bolt_log_context)``): every line logged while a
    request is handled, including by the listener's work after the ack (its task copies the
    context), carries ``request_id``: the event's ``event_id`` when Slack sent one, else a new id."""
    event_id = body.get("event_id") if isinstance(body, dict) else None
    with log_context(request_id=str(event_id) if event_id else new_request_id()):
        return await next()


class RedactingFilter(logging.Filter):
    """Renders the message with its arguments, redacts it and stamps the context ids.

    Attach it to any handler (``configure_logging`` does for its own); the formatters below
    redact their whole output again, which also covers tracebacks.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what there is rather than lose the event
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "delivery_id"):
            record.delivery_id = delivery_id_var.get()
        return True


def _timestamp(record: logging.LogRecord) -> str:
    at = datetime.fromtimestamp(record.created, UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def _exception_text(formatter: logging.Formatter, record: logging.LogRecord) -> str | None:
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    parts = [p for p in (record.exc_text, record.stack_info) if p]
    return "\n".join(parts) if parts else None


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRS and not k.startswith("_")}


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
            "delivery_id": getattr(record, "delivery_id", None) or delivery_id_var.get(),
        }
        for key, value in _extras(record).items():
            data.setdefault(key, _redact_value(value))
        exc = _exception_text(self, record)
        if exc:
            data["exc"] = redact(exc)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``TS LEVEL LOGGER [req=.. dlv=..] message key=value ... exc="..."``, one line."""

    def format(self, record: logging.LogRecord) -> str:
        ids = []
        req = getattr(record, "request_id", None) or request_id_var.get()
        dlv = getattr(record, "delivery_id", None) or delivery_id_var.get()
        if req:
            ids.append(f"req={req}")
        if dlv:
            ids.append(f"dlv={dlv}")
        parts = [_timestamp(record), record.levelname, record.name]
        if ids:
            parts.append("[" + " ".join(ids) + "]")
        parts.append(record.getMessage())
        parts.extend(f"{k}={_one_line(str(v))}" for k, v in _extras(record).items())
        exc = _exception_text(self, record)
        if exc:
            parts.append("exc=" + json.dumps(exc, ensure_ascii=False))
        return redact(_one_line(" ".join(parts)))


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


_HANDLER_NAME = "oncall-bot"


def configure_logging(
    settings: Settings | None = None,
    *,
    fmt: str | None = None,
    level: str | int | None = None,
    stream: TextIO | None = None,
) -> logging.Handler:
    """Install (or replace) the bot's handler on the root logger; returns it.

    ``fmt``: "json" or "text" (default: ``settings.log_format``, else ONCALL_LOG_FORMAT, else
    text). ``level``: default ONCALL_LOG_LEVEL or INFO. Registers the secrets of ``settings`` for
    redaction and installs the redacting excepthook. Safe to call more than once.
    """
    if settings is not None:
        register_settings_secrets(settings)
    chosen = (fmt or (settings.log_format if settings is not None else None)
              or os.environ.get("ONCALL_LOG_FORMAT") or "text").strip().lower()
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    wanted = level if level is not None else os.environ.get("ONCALL_LOG_LEVEL", "INFO")
    root.setLevel(wanted.upper() if isinstance(wanted, str) else wanted)
    # Libraries that log request bodies or URLs at DEBUG stay at INFO unless asked for; alembic's
    # start-up chatter ("setup plugin ...", "Context impl ...") only at DEBUG.
    for noisy, floor in (("slack_sdk", logging.INFO), ("slack_bolt", logging.INFO), ("aiohttp.access", logging.INFO),
                         ("asyncio", logging.INFO), ("alembic.runtime.plugins", logging.WARNING)):
        if logging.getLogger(noisy).level == logging.NOTSET:
            logging.getLogger(noisy).setLevel(max(root.level, floor))
    install_excepthook()
    return handler


def format_exception_safely(exc: BaseException) -> str:
    """``Type: message`` of ``exc`` with secrets removed, for one-line error messages."""
    text = str(exc)
    return redact(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _excepthook(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    """An exception that escaped ``main``: one log line (JSON or text) through our handler when it
    is installed, else the usual traceback; secrets removed either way."""
    root = logging.getLogger()
    if any(h.get_name() == _HANDLER_NAME for h in root.handlers) and not issubclass(exc_type, KeyboardInterrupt):
        logging.getLogger("bot").critical("unhandled %s, exiting", exc_type.__name__, exc_info=(exc_type, exc, tb))
        return
    import traceback

    sys.stderr.write(redact("".join(traceback.format_exception(exc_type, exc, tb))))


def install_excepthook() -> None:
    """Print an uncaught exception's traceback with secrets removed."""
    sys.excepthook = _excepthook


def secret_values() -> Iterable[str]:
    """The literal values registered for redaction (for tests)."""
    with _known_lock:
        return tuple(_known)
