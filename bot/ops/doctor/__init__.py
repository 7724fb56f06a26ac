"""``oncall-bot doctor``: check a deployment and say, line by line, what is fine and what to do.

Checks, in order: the configuration (which Slack mode the credentials select), the database
(reachable, schema at head), the seed file (valid) and the seed loaded in the database (equal to
the file), holiday data (this year and next), then Slack: the token (``auth.test``), its scopes
against ``manifest.yaml`` (the ``X-OAuth-Scopes`` header), each channel the seed names (exists,
not archived, the bot is a member) and each person (``users.info`` on their Slack id, else
``users.lookupByEmail`` on their email to suggest the right id), and the user groups the seed
names (exist; the token may update them: ``usergroups``).

Read-only: it never migrates, loads a seed or creates a database file. Two writes, both no-ops
for anyone watching: the user-group probe re-sets a group to the members it has, and when that
works a remembered refusal of user-group updates is forgotten (the weekly updates resume). Every check runs even
when an earlier one failed (a check that cannot run says "skipped" and why); a check that
crashes is reported as a failure rather than stopping the rest. Without SLACK_BOT_TOKEN the Slack
checks say "skipped: no SLACK_BOT_TOKEN". Exit status: 1 when any check failed, else 0.

Modules, one per area checked: ``config``, ``database``, ``seed``, ``holidays``, ``slack``, ``usergroups``; the
report and the guards in ``report``; the order in ``run``. It may import storage, seed, core,
config and Slack's client (it is an operator's tool, beside the transports).
"""

from bot.ops.doctor.report import CheckResult, Report, Status, names, print_report
from bot.ops.doctor.run import DEFAULT_MANIFEST, run_doctor
from bot.ops.doctor.slack import manifest_scopes, seed_channels

__all__ = [
    "DEFAULT_MANIFEST", "CheckResult", "Report", "Status", "manifest_scopes", "names", "print_report", "run_doctor",
    "seed_channels",
]
