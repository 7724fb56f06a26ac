"""``doctor``'s holiday check: the holidays package covers this year and next for the seed's country."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from bot.ops.doctor.report import Report, Status
from bot.ops.logging import format_exception_safely

if TYPE_CHECKING:

    from bot.seed.schema import SeedIn



def check_holidays(seed: SeedIn | None, today: date, report: Report) -> None:
    if seed is None:
        report.add("holidays", Status.SKIP, "skipped: the seed file is not valid")
        return
    import holidays

    cal = seed.calendar
    where = cal.holiday_country + (f"-{cal.holiday_subdivision}" if cal.holiday_subdivision else "")
    version = getattr(holidays, "__version__", "?")
    counts = {}
    for year in (today.year, today.year + 1):
        try:
            table = holidays.country_holidays(
                cal.holiday_country, subdiv=cal.holiday_subdivision, years=year, language="en_US", observed=True
            )
            counts[year] = sum(1 for d in table if d.year == year)
        except Exception as exc:
            report.add("holidays", Status.FAIL, f"{where} {year}: {format_exception_safely(exc)}",
                       "fix calendar.holiday_country / holiday_subdivision in the seed, or upgrade the bot")
            return
    missing = [y for y, n in counts.items() if n == 0]
    if missing:
        report.add("holidays", Status.FAIL,
                   f"the holidays package {version} has no {where} holidays for {', '.join(map(str, missing))}",
                   "upgrade the bot image (it pins a holidays release that covers the years ahead)")
        return
    shown = ", ".join(f"{n} in {y}" for y, n in counts.items())
    report.add("holidays", Status.OK, f"{where}: {shown} (holidays {version})")
    extra_years = {h.date.year for h in cal.extra_holidays}
    if extra_years:
        lacking = [y for y in (today.year, today.year + 1) if y not in extra_years]
        if lacking:
            report.add("company holidays", Status.WARN,
                       f"calendar.extra_holidays has days for {', '.join(map(str, sorted(extra_years)))} "
                       f"but none for {', '.join(map(str, lacking))}",
                       "add the company's days off for those years to the seed and load it")
