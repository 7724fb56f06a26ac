"""find_pipeline, find_owners, match_issues on the shipped seed."""

from __future__ import annotations

import pytest

from bot.core.search import find_owners, find_pipeline, match_issues, stem

from .helpers import DIRECTORY


@pytest.mark.parametrize(
    ("text", "pipeline"),
    [
        ("profit", "profit"),
        ("PROFIT", "profit"),
        ("P&L", "profit"),
        ("Aggregate_Engagement", "aggregate-engagement"),
        ("aggregate engagement to investors", "aggregate-engagement"),
        ("agg profit growth", "aggregate-profit-growth"),
        ("  Engagement ", "engagement"),
        ("clicks", "engagement"),
        ("Accounts-Pipeline", "growth"),
    ],
)
def test_find_pipeline_exact(text: str, pipeline: str) -> None:
    match = find_pipeline(DIRECTORY, text)
    assert match.pipeline is not None and match.pipeline.id == pipeline
    assert match.suggestions == ()


def test_did_you_mean() -> None:
    match = find_pipeline(DIRECTORY, "engagment")
    assert match.pipeline is None
    assert match.suggestions[0] == "engagement"
    assert len(match.suggestions) <= 3
    assert find_pipeline(DIRECTORY, "proft").suggestions[0] == "profit"
    assert "aggregate-profit-growth" in find_pipeline(DIRECTORY, "aggreg").suggestions
    assert find_pipeline(DIRECTORY, "zzzzzz").suggestions == ()
    assert find_pipeline(DIRECTORY, "").suggestions == ()


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("churn", "growth"),
        ("clickstream", "engagement"),
        ("salaries", "profit"),
        ("salary", "profit"),
        ("Kafka", "engagement"),
        ("who owns the clicks data?", "engagement"),
        ("renewals", "growth"),
        ("spark", "aggregate-profit-growth"),
        ("experimental datasets", "aggregate-engagement"),
    ],
)
def test_find_owners(query: str, first: str) -> None:
    hits = find_owners(DIRECTORY, query)
    assert hits and hits[0].pipeline.id == first
    assert hits[0].reasons


def test_find_owners_reasons_and_named_pipeline_first() -> None:
    hits = find_owners(DIRECTORY, "salaries")
    assert [h.pipeline.id for h in hits] == ["profit"]
    data = "data: Operational expenses such as salaries, server costs, and marketing spend."
    assert data in hits[0].reasons
    assert "keyword: salaries" in hits[0].reasons
    named = find_owners(DIRECTORY, "profit")
    assert named[0].pipeline.id == "profit" and named[0].reasons == ("name: Profit",)
    assert [h.pipeline.id for h in named[1:]] == ["aggregate-profit-growth"]
    assert find_owners(DIRECTORY, "nothing-like-this") == []
    assert find_owners(DIRECTORY, "") == []


def test_stem() -> None:
    assert stem("salaries") == stem("salary") == "salary"
    assert stem("clicks") == "click"
    assert stem("taxes") == "tax"
    assert stem("status") == "status"
    assert stem("loss") == "loss"


def test_match_issues() -> None:
    eng = DIRECTORY.pipelines["engagement"]
    found = match_issues(eng, "Clickstream is late, Kafka lag is huge")
    assert found[0].text.startswith("Delayed or lost clickstream")
    assert match_issues(eng, "lots of duplicate events")[0].text.startswith("Duplicate events")
    profit = DIRECTORY.pipelines["profit"]
    assert match_issues(profit, "Revenue totals don't match the filing")[0].text.startswith("Data mismatches")
    growth = DIRECTORY.pipelines["growth"]
    assert match_issues(growth, "out-of-order updates")[0].text.startswith("Sequence errors")
    assert match_issues(profit, "the weather is nice") == []
    assert match_issues(profit, "") == []


def test_fuzzy_matching_is_bounded_on_long_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long text is never handed to difflib (it cannot be close to a short name), and a long
    question looks at a bounded number of words; answers are those of the bounded question."""
    import difflib

    import bot.core.search as search

    calls: list[int] = []

    class Counting(difflib.SequenceMatcher):  # type: ignore[type-arg]
        def __init__(self, *args: object, **kwargs: object) -> None:
            calls.append(1)
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(search.difflib, "SequenceMatcher", Counting)
    assert find_pipeline(DIRECTORY, "x" * 200_000).suggestions == ()
    assert calls == []
    assert find_pipeline(DIRECTORY, "engagment").suggestions[:1] == ("engagement",)
    assert calls
    words = " ".join(f"w{i}" for i in range(50_000))
    assert [h.pipeline.id for h in find_owners(DIRECTORY, f"churn {words}")] == \
        [h.pipeline.id for h in find_owners(DIRECTORY, "churn")]
