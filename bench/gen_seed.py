"""A generated seed of N pipelines and M people, for benchmarks (shape of data/seed.yaml)."""

from __future__ import annotations

from typing import Any

import yaml


def generate(pipelines: int = 1000, people: int = 500, teams: int = 50) -> dict[str, Any]:
    with open("data/seed.yaml", encoding="utf-8") as f:
        base = yaml.safe_load(f)  # for the calendar
    per_team = people // teams
    team_rows, people_rows, rotations = [], [], []
    for t in range(teams):
        tid = f"team{t:03d}"
        members = [f"p{t:03d}x{i:02d}" for i in range(per_team)]
        team_rows.append({"id": tid, "name": f"Team {t}", "channel": f"#team-{t}", "lead": members[0]})
        for i, m in enumerate(members):
            people_rows.append({"id": m, "name": f"Person {t}-{i}", "team": tid,
                                "slack_user_id": f"U{t:04d}{i:04d}", "email": f"{m}@example.com"})
        rot: dict[str, Any] = {"id": tid, "name": f"Team {t} on-call", "team": tid, "members": members,
                               "anchor": "2026-11-02T09:00:00"}
        if t % 5 == 0:
            rot["roles"] = [{"id": f"R{j + 1}", "name": f"T{t} R{j + 1}"} for j in range(4)]
        rotations.append(rot)
    pipes = []
    for n in range(pipelines):
        t1, t2 = n % teams, (n * 7 + 3) % teams

        def ref(t: int, j: int) -> str:
            return f"team{t:03d}:R{j}" if t % 5 == 0 else f"team{t:03d}"

        pipes.append({
            "id": f"pipe{n:04d}", "name": f"Pipeline {n}",
            "owners": {"primary": [f"team{t1:03d}"], "secondary": [f"team{t2:03d}"]},
            "keywords": [f"data{n}", "events"],
            "windows": [
                {"name": "month-end", "days": ["business"], "month_end": True, "start": "08:00", "end": "18:00",
                 "primary": ref(t1, 1), "secondary": ref(t2, 2)},
                {"name": "weekday", "days": ["business"], "start": "09:00", "end": "17:00",
                 "primary": ref(t1, 1), "secondary": ref(t2, 2)},
                {"name": "weekend", "days": ["weekend", "holiday"], "start": "00:00", "end": "24:00",
                 "primary": ref(t2, 1), "secondary": ref(t1, 2)},
            ],
            "escalation": [ref(t2, 3)],
        })
    return {"version": 1, "calendar": base["calendar"], "teams": team_rows, "people": people_rows,
            "rotations": rotations, "pipelines": pipes}


def generate_yaml(pipelines: int = 1000, people: int = 500) -> str:
    return yaml.safe_dump(generate(pipelines, people), sort_keys=False)
