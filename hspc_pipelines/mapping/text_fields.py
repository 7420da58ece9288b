"""Title, customer business problem and website: the free-text fields and their limits."""

from __future__ import annotations

import functools
import re
from urllib.parse import urlsplit

from .errors import FieldError
from .values import collapse

TITLE_MAX = 255  # Project.Title pattern (?s).{0,255}
PROBLEM_MIN, PROBLEM_MAX = 20, 2000  # Project.CustomerBusinessProblem pattern (?s).{20,2000}
WEBSITE_MIN, WEBSITE_MAX = 4, 255  # WebsiteUrl pattern (?s).{4,255}


@functools.cache
def tag_pattern(tag: str) -> re.Pattern[str]:
    """The co-sell tag anywhere, any case, but not as the start of a longer word (`#AWSome`)."""
    return re.compile(re.escape(tag) + r"(?!\w)", re.IGNORECASE)


def has_tag(name: str, tag: str) -> bool:
    return bool(tag) and tag_pattern(tag).search(name) is not None


def title(deal_name: str | None, tag: str, warnings: list[str]) -> str | None:
    if not deal_name:
        return None
    cleaned = collapse(tag_pattern(tag).sub(" ", deal_name)) if tag else collapse(deal_name)
    if len(cleaned) > TITLE_MAX:
        warnings.append(f"title_truncated: dealname is {len(cleaned)} characters, cut to {TITLE_MAX}")
        cleaned = cleaned[:TITLE_MAX].rstrip()
    return cleaned or None


def deal_name(project_title: str | None, tag: str) -> str | None:
    """The deal name for a title: the title with the co-sell tag appended once."""
    if not project_title:
        return None
    base = collapse(tag_pattern(tag).sub(" ", project_title)) if tag else project_title
    return f"{base} {tag}".strip() if tag else base


def problem(description: str | None, errors: list[FieldError], warnings: list[str]) -> str | None:
    """20 to 2,000 characters: too short is an error (never padded), too long is cut at a word."""
    if description is None:
        return None
    text = description.strip()
    if len(text) < PROBLEM_MIN:
        errors.append(
            FieldError(
                "description",
                text,
                f"customer business problem is {len(text)} characters",
                f"{PROBLEM_MIN} to {PROBLEM_MAX} characters",
            )
        )
        return None
    if len(text) <= PROBLEM_MAX:
        return text
    cut = text[:PROBLEM_MAX]
    if not text[PROBLEM_MAX].isspace():
        space = max(cut.rfind(" "), cut.rfind("\n"), cut.rfind("\t"))
        if space >= PROBLEM_MAX // 2:  # a word boundary not too far back; otherwise cut hard
            cut = cut[:space]
    cut = cut.rstrip()
    warnings.append(f"problem_truncated: description is {len(text)} characters, cut to {len(cut)} at a word")
    return cut


_HOST = re.compile(r"(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@functools.lru_cache(maxsize=16_384)
def website(raw: str | None) -> str | None:
    """An https:// URL for a website or a bare domain; None when it is not a usable web address."""
    if not raw:
        return None
    value = raw.strip()
    # stripped, so any whitespace left is inside: split() then finds more than one part
    if len(value.split(None, 1)) > 1 or len(value) > 2 * WEBSITE_MAX:
        return None
    if _SCHEME.match(value) is None:
        value = "https://" + value.lstrip("/")
    try:
        parts = urlsplit(value)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not _HOST.fullmatch(host) or parts.username:
        return None
    netloc = host.lower() + (f":{port}" if port else "")
    path = "" if parts.path in ("", "/") else parts.path
    url = f"https://{netloc}{path}" + (f"?{parts.query}" if parts.query else "")
    return url if WEBSITE_MIN <= len(url) <= WEBSITE_MAX else None


def domain_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url if "://" in url else "https://" + url).hostname
    except ValueError:
        return None
    if not host:
        return None
    return host[4:] if host.startswith("www.") else host
