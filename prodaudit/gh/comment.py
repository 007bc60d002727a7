"""One pull-request comment per PR: find ours by the hidden marker and edit it, or post it once.

GitHub REST over urllib (no extra dependency). A token that may not write (a fork's pull request,
`pull-requests: read`) answers 403 or 404: that is a note, not a failure, since the verdict is
enforced by its own step and the full report is in the job summary anyway.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from prodaudit.report.markdown import COMMENT_MARKER

TIMEOUT_SECONDS = 15
MAX_PAGES = 50  # 5,000 comments: past that, post a new one rather than page forever
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


class NoPermission(Exception):
    """The token may not read or write this pull request's comments (HTTP 403/404)."""


@dataclass(frozen=True)
class Api:
    base_url: str  # GITHUB_API_URL, e.g. https://api.github.com
    token: str
    repository: str  # owner/name

    def request(self, method: str, url: str, body: dict[str, Any] | None = None) -> tuple[Any, str | None]:
        """The decoded JSON answer and the `next` page link, if any."""
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/vnd.github+json")
        req.add_header("X-GitHub-Api-Version", "2022-11-28")
        req.add_header("User-Agent", "prodaudit-action")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 - URL built from GITHUB_API_URL
                payload = json.loads(response.read() or b"null")
                match = _NEXT.search(response.headers.get("Link") or "")
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403, 404):
                raise NoPermission(f"HTTP {exc.code} on {method} {urllib.parse.urlsplit(url).path}") from None
            raise
        return payload, match.group(1) if match else None

    def repo_url(self) -> str:
        owner, _, name = self.repository.partition("/")
        quoted = f"{urllib.parse.quote(owner, safe='')}/{urllib.parse.quote(name, safe='')}"
        return f"{self.base_url.rstrip('/')}/repos/{quoted}"

    def comments_url(self, number: int) -> str:
        return f"{self.repo_url()}/issues/{number}/comments"

    def same_origin(self, url: str) -> bool:
        """Follow `next` links only to the API we were given: the token must not travel elsewhere."""
        a, b = urllib.parse.urlsplit(url), urllib.parse.urlsplit(self.base_url)
        return (a.scheme, a.netloc) == (b.scheme, b.netloc)


def find_marked(api: Api, number: int) -> dict[str, Any] | None:
    """Our earlier comment: the first whose body starts with the marker."""
    url: str | None = f"{api.comments_url(number)}?per_page=100"
    for _ in range(MAX_PAGES):
        if url is None or not api.same_origin(url):
            return None
        page, url = api.request("GET", url)
        for comment in page if isinstance(page, list) else []:
            body = comment.get("body") if isinstance(comment, dict) else None
            if isinstance(body, str) and body.lstrip().startswith(COMMENT_MARKER):
                return comment
    return None


def upsert(api: Api, number: int, body: str) -> str:
    """Edit our comment or create it; returns "updated" or "created"."""
    if not body.lstrip().startswith(COMMENT_MARKER):
        body = f"{COMMENT_MARKER}\n{body}"  # without it the next run could not find this comment
    existing = find_marked(api, number)
    if existing is not None and isinstance(existing.get("id"), int) and not isinstance(existing["id"], bool):
        api.request("PATCH", f"{api.repo_url()}/issues/comments/{existing['id']}", {"body": body})
        return "updated"
    api.request("POST", api.comments_url(number), {"body": body})
    return "created"
