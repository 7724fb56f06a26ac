"""Finding pipelines by what people type: names with typos, data they carry, issue summaries.

Pure and deterministic: no I/O; ties keep the directory's (or runbook's) order.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot.core.model import CommonIssue, Directory, Pipeline

_SEPARATORS = re.compile(r"[\s_\-]+")
_WORD = re.compile(r"[a-z0-9&]+")
_STOPWORDS = frozenset(
    {
        "a", "about", "all", "an", "and", "any", "are", "as", "at", "be", "by", "call", "can", "data",
        "do", "does", "for", "from", "has", "have", "how", "i", "in", "including", "into", "is", "it",
        "its", "me", "my", "of", "on", "oncall", "or", "our", "owner", "owners", "owns", "own",
        "pipeline", "pipelines", "such", "than", "that", "the", "their", "them", "these", "this",
        "those", "to", "up", "us", "was", "we", "what", "which", "who", "whom", "whose", "with",
    }
)
_WEIGHTS = {"name": 4, "alias": 4, "keyword": 3, "data": 2, "issue": 1}
_MAX_SUGGESTIONS = 3
_FUZZY_CUTOFF = 0.6
MAX_QUERY_WORDS = 64  # words of a question looked at: the rest cannot change who owns what


def _norm(text: str) -> str:
    return _SEPARATORS.sub("", text.strip().strip("`'\"").lower())


def stem(word: str) -> str:
    """A crude singular of a lower-case English word: "salaries" -> "salary", "clicks" -> "click",
    "taxes" -> "tax"; words ending in -ss, -us, -is are kept."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _words(text: str) -> list[str]:
    return [stem(w) for w in _WORD.findall(text.lower())]


def _significant(text: str) -> list[str]:
    return list(dict.fromkeys(w for w in _words(text) if w not in _STOPWORDS))


def _may_be_close(a: str, b: str) -> bool:
    """Whether difflib's ratio of ``a`` and ``b`` can reach the cutoff at all: it is at most
    2*min/(len a + len b), so a long text is never compared with a short name."""
    return 2 * min(len(a), len(b)) >= _FUZZY_CUTOFF * (len(a) + len(b))


@dataclass(frozen=True, slots=True)
class PipelineMatch:
    """``pipeline`` when the text names one exactly; else up to 3 ``suggestions`` (pipeline ids)."""

    pipeline: Pipeline | None
    suggestions: tuple[str, ...] = ()


def _names(p: Pipeline) -> list[str]:
    return [p.id, p.name, *p.aliases]


def find_pipeline(directory: Directory, text: str) -> PipelineMatch:
    """The pipeline whose id, name or an alias equals ``text``, ignoring case, whitespace,
    underscores and hyphens ("Aggregate_Engagement" -> ``aggregate-engagement``).

    Otherwise ``pipeline`` is None and ``suggestions`` holds up to 3 pipeline ids, best first:
    names that start with or contain the text, or are close to it (difflib ratio >= 0.6; a text
    too long to be that close to any name is not compared). Empty text matches nothing and
    suggests nothing.
    """
    q = _norm(text)
    if not q:
        return PipelineMatch(None, ())
    for p in directory.pipelines.values():
        if any(_norm(n) == q for n in _names(p)):
            return PipelineMatch(p, ())
    scores: dict[str, float] = {}
    for p in directory.pipelines.values():
        best = 0.0
        for n in _names(p):
            key = _norm(n)
            if not key:
                continue
            if key.startswith(q) or q.startswith(key):
                score = 0.9
            elif len(q) >= 3 and q in key:
                score = 0.8
            elif _may_be_close(q, key):
                score = difflib.SequenceMatcher(None, q, key).ratio()
            else:
                continue
            best = max(best, score)
        if best >= _FUZZY_CUTOFF:
            scores[p.id] = best
    ranked = sorted(scores, key=lambda pid: -scores[pid])  # stable: directory order on ties
    return PipelineMatch(None, tuple(ranked[:_MAX_SUGGESTIONS]))


@dataclass(frozen=True, slots=True)
class OwnerHit:
    """A pipeline that matches an ownership question, and what matched ("keyword: churn")."""

    pipeline: Pipeline
    reasons: tuple[str, ...]


def _fields(p: Pipeline) -> list[tuple[str, str, frozenset[str]]]:
    """``(label, text shown, words)`` of every searchable field of a pipeline."""
    plain = [("name", p.name), *(("alias", a) for a in p.aliases), *(("keyword", k) for k in p.keywords)]
    plain += [("data", d) for d in p.runbook.data_types]
    fields = [(label, text, frozenset(_words(text))) for label, text in plain]
    for issue in p.runbook.common_issues:
        words = set(_words(issue.text))
        for k in issue.keywords:
            words.update(_words(k))
        fields.append(("issue", issue.text, frozenset(words)))
    return fields


def find_owners(directory: Directory, query: str) -> list[OwnerHit]:
    """Pipelines an ownership question is about, best first.

    If ``query`` names a pipeline exactly (see ``find_pipeline``) that pipeline comes first
    (reason "name: ..."). Then every other pipeline whose name, aliases, keywords, runbook data
    types or common issues (text or keywords) contain a word of the query, case-insensitive, with
    simple plural/singular tolerance ("salaries" = "salary"); common words ("who", "owns",
    "data", ...) are ignored. Score: per matched word, 4 for name/alias, 3 keyword, 2 data type,
    1 common issue; ties keep directory order. Reasons name each matching field once, e.g.
    "keyword: churn", "data: Revenue growth and churn metrics for investor reporting.",
    "issue: Delayed or lost clickstream data due to Kafka outages.". Empty if nothing matches.
    Only the first ``MAX_QUERY_WORDS`` distinct significant words are looked at.
    """
    hits: list[OwnerHit] = []
    named = find_pipeline(directory, query).pipeline
    if named is not None:
        hits.append(OwnerHit(named, (f"name: {named.name}",)))
    words = (_significant(query) or _words(query))[:MAX_QUERY_WORDS]
    if not words:
        return hits
    scored: list[tuple[int, int, OwnerHit]] = []
    for order, p in enumerate(directory.pipelines.values()):
        if named is not None and p.id == named.id:
            continue
        score = 0
        reasons: list[tuple[int, str]] = []
        for label, shown, field_words in _fields(p):
            matched = sum(1 for w in words if w in field_words)
            if not matched:
                continue
            weight = _WEIGHTS[label]
            score += weight * matched
            reason = f"{label}: {shown}"
            if all(r != reason for _, r in reasons):
                reasons.append((weight, reason))
        if score:
            reasons.sort(key=lambda r: -r[0])
            scored.append((-score, order, OwnerHit(p, tuple(r for _, r in reasons))))
    scored.sort(key=lambda t: (t[0], t[1]))
    return hits + [h for _, _, h in scored]


def match_issues(pipeline: Pipeline, summary: str) -> list[CommonIssue]:
    """The pipeline's runbook common issues that an incident ``summary`` looks like, best first.

    An issue scores 3 per keyword found in the summary (every word of a multi-word keyword) and
    1 per significant word of its text found there (case-insensitive, plural-tolerant, common
    words ignored). Issues scoring 0 are left out; ties keep runbook order.
    """
    said = set(_words(summary))
    if not said:
        return []
    scored: list[tuple[int, int, CommonIssue]] = []
    for i, issue in enumerate(pipeline.runbook.common_issues):
        score = 0
        for k in issue.keywords:
            kw = _words(k)
            if kw and all(w in said for w in kw):
                score += 3
        score += sum(1 for w in _significant(issue.text) if len(w) >= 4 and w in said)
        if score:
            scored.append((-score, i, issue))
    scored.sort(key=lambda t: (t[0], t[1]))
    return [issue for _, _, issue in scored]
