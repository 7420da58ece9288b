"""HubSpot CRM client: one `requests.Session`, urllib3 retries, client-side pacing, batch and search helpers.

Retries (with `Retry-After`) are urllib3's, tuned in `retry.py`; pacing under the rolling limits is
`pacing.py`; batch results with per-input failures are `batch.py`; search windows are `search.py`.
This module turns those into the calls the product makes. It knows nothing of Dagster.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from hspc_pipelines.hubspot.auth import (
    AuthMode,
    ClientCredentials,
    Credentials,
    StaticToken,
    credentials_from_settings,
)
from hspc_pipelines.hubspot.batch import BatchFailure, BatchResult, chunks
from hspc_pipelines.hubspot.errors import (
    HubSpotError,
    JournalOffsetExpired,
    RateLimitExhausted,
    SearchLimitExceeded,
    SearchWindowTooDense,
    error_from_body,
    scrub,
)
from hspc_pipelines.hubspot.pacing import (
    DEFAULT_REQUESTS_PER_10S,
    DEFAULT_SEARCH_PER_SECOND,
    HubSpotPacer,
    pacing_from_settings,
)
from hspc_pipelines.hubspot.paths import DEFAULT_VERSION, ApiVersion, HubSpotPaths
from hspc_pipelines.hubspot.portal_rules import refusal_from
from hspc_pipelines.hubspot.retry import HubSpotRetry
from hspc_pipelines.hubspot.search import (
    MODIFIED,
    SEARCH_PAGE_MAX,
    SEARCH_RESULT_CAP,
    check_filter_limits,
    epoch_ms,
    split,
    window_filter_groups,
)
from hspc_pipelines.hubspot.stats import CallStats
from hspc_pipelines.settings import SettingsError, load_settings

log = logging.getLogger(__name__)

BATCH_SIZE = 100
ASSOCIATION_READ_BATCH = 1_000
ASSOCIATION_CREATE_BATCH = 100
LIST_PAGE_MAX = 100
ISOLATION_BUDGET = 16  # extra calls a batch may spend finding the inputs behind a 400 (+1 per 10 inputs)
# The webhooks journal's latest date-based version (docs/webhooks-journal.md); batch read takes 100 offsets.
JOURNAL_VERSION = "2026-03"
JOURNAL_BATCH_MAX = 100
JOURNAL_SUBSCRIPTIONS = f"/webhooks-journal/subscriptions/{JOURNAL_VERSION}"
# Chunk-level answers that belong to the inputs, not to the run: collected as failures.
_INPUT_STATUSES = frozenset({400, 404, 409, 422})


def _path(template: str, **params: Any) -> str:
    return template.format(**{k: quote(str(v), safe="") for k, v in params.items()})


class HubSpotClient:
    """Calls HubSpot's CRM APIs at one version (date-based, `2026-09` by default; `legacy`: the
    numbered v3/v4 paths), with pacing under the 10-second and search limits. Every path comes from
    `self.paths` (`paths.py`).

    Thread-safe: one client may serve several worker threads.
    """

    def __init__(
        self,
        access_token: str | None = None,
        base_url: str = "https://api.hubapi.com",
        *,
        timeout: float | tuple[float, float] = (5, 30),
        requests_per_10s: int = DEFAULT_REQUESTS_PER_10S,
        search_per_second: float = DEFAULT_SEARCH_PER_SECOND,
        max_retries: int = 6,
        session: requests.Session | None = None,
        token_provider: Callable[[], str] | None = None,
        credentials: Credentials | None = None,
        api_version: ApiVersion | str = DEFAULT_VERSION,
    ) -> None:
        """A static `access_token` (a private app's; `token_provider` re-reads it from SSM after a 401, so
        a rotated token is picked up without a restart), or `credentials` (hubspot/auth.py: a service key,
        client-credentials tokens that expire)."""
        if credentials is None:
            if not access_token:
                raise ValueError("HubSpot access token is empty: set HUBSPOT_ACCESS_TOKEN")
            credentials = StaticToken(access_token, reread=token_provider)
        self.credentials = credentials
        self.base_url = base_url.rstrip("/")
        self.paths = HubSpotPaths(api_version)
        self.timeout = timeout
        self.stats = CallStats()
        self.pacer = HubSpotPacer(int(requests_per_10s), float(search_per_second))
        self._local = threading.local()
        self.session = session or requests.Session()
        adapter = HTTPAdapter(
            max_retries=HubSpotRetry.build(max_retries, hooks=self), pool_connections=4, pool_maxsize=32
        )
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)

    def __repr__(self) -> str:  # never show the token
        return f"HubSpotClient(base_url={self.base_url!r}, auth={self.credentials.mode.value!r})"

    @classmethod
    def from_env(cls, **overrides: Any) -> HubSpotClient:
        """A client as the settings say (HSPC_HUBSPOT_AUTH and its variables; not the SSM parameter)."""
        settings = load_settings()
        kw: dict[str, Any] = {
            **pacing_from_settings(settings),
            "api_version": settings.hubspot_api_version,
            **overrides,
        }
        try:
            credentials = credentials_from_settings(settings)
        except SettingsError as exc:
            raise ValueError(str(exc)) from None
        return cls(base_url=settings.hubspot_base_url, credentials=credentials, **kw)

    def close(self) -> None:
        self.session.close()

    # -- transport -------------------------------------------------------------------------------

    def on_retry(self, method: str, path: str, status: int | None, headers: Mapping[str, str]) -> None:
        """Called by urllib3 (through HubSpotRetry) before it repeats a request."""
        self.pacer.observe(headers)
        self.stats.record_retry(getattr(self._local, "endpoint", f"{method} {path}"), status)
        log.info("HubSpot %s %s: %s, retrying", method, path, f"HTTP {status}" if status else "no response")

    def before_resend(self, path: str) -> None:
        self._local.slots.extend(self.pacer.acquire(path.endswith("/search")))

    def request(
        self,
        method: str,
        template: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        _retried: bool = False,
        **path_params: Any,
    ) -> Any:
        """One call; returns the parsed JSON body (None for 204). Raises HubSpotError on >= 400."""
        path = _path(template, **path_params)
        endpoint = f"{method} {template}"
        self._local.endpoint = endpoint
        sent_token = self.credentials.current()  # before the pacer: a token request is not a CRM call
        self._local.slots = self.pacer.acquire(path.endswith("/search"))
        headers = {"Authorization": f"Bearer {sent_token}", "Accept": "application/json"}
        try:
            response = self.session.request(
                method, self.base_url + path, params=params, json=json, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            self.pacer.complete(self._local.slots)
            self.stats.record(endpoint, 0)
            raise HubSpotError(
                0, "CONNECTION", scrub(f"{type(exc).__name__}: {exc}", sent_token), method=method, path=path
            ) from exc
        self.pacer.complete(self._local.slots)
        self.stats.record(endpoint, response.status_code)
        self.pacer.observe(response.headers)
        body = self._body(response)
        if response.status_code == 401 and not _retried and self._fresh_token(sent_token):
            return self.request(method, template, params=params, json=json, _retried=True, **path_params)
        if response.status_code >= 400:
            raise error_from_body(
                response.status_code,
                body,
                method=method,
                path=path,
                token=sent_token,
                fallback=scrub(response.text[:500], sent_token),
            )
        return body

    def _fresh_token(self, sent_token: str) -> bool:
        """After a 401: whether the credential has a token other than the one sent (re-read from SSM,
        or a new client-credentials token). Asked once per request, so a revoked credential ends in
        the 401's error, not in a loop."""
        try:
            fresh = self.credentials.after_401(sent_token)
        except HubSpotError as exc:  # the token endpoint refused: the 401 stands, said once
            log.warning("HubSpot answered 401 and no new token could be obtained: %s", exc)
            return False
        return bool(fresh) and fresh != sent_token

    @staticmethod
    def _body(response: requests.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    # -- listing and search ----------------------------------------------------------------------

    def list_objects(
        self,
        object_type: str,
        properties: Sequence[str] = (),
        *,
        archived: bool = False,
        associations: Sequence[str] = (),
        limit: int = LIST_PAGE_MAX,
    ) -> Iterator[dict[str, Any]]:
        """Every object of a type, following `paging.next.after` (no total cap on listing)."""
        params: dict[str, Any] = {"limit": min(limit, LIST_PAGE_MAX), "archived": str(archived).lower()}
        if properties:
            params["properties"] = ",".join(properties)
        if associations:
            params["associations"] = ",".join(associations)
        while True:
            page = self.request("GET", self.paths.objects(), params=params, object_type=object_type)
            yield from page.get("results", [])
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params["after"] = after

    def _search_pages(self, object_type: str, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        body = dict(body)
        while True:
            page = self.request("POST", self.paths.objects("/search"), json=body, object_type=object_type)
            yield page
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            if int(after) >= SEARCH_RESULT_CAP:
                raise SearchLimitExceeded(
                    400,
                    "SEARCH_LIMIT",
                    f"search matches {page.get('total')} objects; HubSpot returns at most "
                    f"{SEARCH_RESULT_CAP} per query: narrow the filters or use search_modified_between",
                    method="POST",
                    path=_path(self.paths.objects("/search"), object_type=object_type),
                )
            body["after"] = after

    def search_objects(
        self,
        object_type: str,
        filter_groups: Sequence[Mapping[str, Any]],
        properties: Sequence[str] = (),
        sorts: Sequence[Any] | None = None,
        limit: int = SEARCH_PAGE_MAX,
        query: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Objects matching the filters, page by page; raises SearchLimitExceeded past 10,000."""
        check_filter_limits(filter_groups)
        body: dict[str, Any] = {
            "filterGroups": [dict(g) for g in filter_groups],
            "properties": list(properties),
            "limit": min(limit, SEARCH_PAGE_MAX),
        }
        if sorts:
            body["sorts"] = list(sorts)
        if query:
            body["query"] = query
        for page in self._search_pages(object_type, body):
            yield from page.get("results", [])

    def search_modified_between(
        self,
        object_type: str,
        start: dt.datetime,
        end: dt.datetime,
        properties: Sequence[str] = (),
        extra_filters: Sequence[Mapping[str, Any]] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Objects with start <= hs_lastmodifieddate < end, ascending, each once.

        Windows holding more than 10,000 objects are split in two until each half fits. HubSpot's
        search index lags writes by a few seconds: callers reconciling consecutive windows should
        overlap them (start the next window a minute before the previous end) and rely on
        idempotent processing; objects modified while paging may move to a later window.
        """
        pending = deque([(epoch_ms(start), epoch_ms(end))])
        seen: set[str] = set()
        while pending:
            lo, hi = pending.popleft()
            if hi <= lo:
                continue
            body = {
                "filterGroups": window_filter_groups(lo, hi, extra_filters),
                "properties": list(properties),
                "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
                "limit": SEARCH_PAGE_MAX,
            }
            pages = self._search_pages(object_type, body)
            first = next(pages)
            total = int(first.get("total") or 0)
            if total > SEARCH_RESULT_CAP:
                if hi - lo <= 1:
                    raise SearchWindowTooDense(
                        400,
                        "SEARCH_LIMIT",
                        f"{total} {object_type} share hs_lastmodifieddate {lo} ms; "
                        "add extra_filters to narrow the search",
                        method="POST",
                        path=_path(self.paths.objects("/search"), object_type=object_type),
                    )
                left, right = split(lo, hi)
                pending.extendleft([right, left])  # left first: results stay ascending
                log.debug("search window %s..%s holds %d %s; split", lo, hi, total, object_type)
                continue
            for page in _chain(first, pages):
                for obj in page.get("results", []):
                    if str(obj.get("id")) not in seen:
                        seen.add(str(obj.get("id")))
                        yield obj

    # -- batch objects ---------------------------------------------------------------------------

    def batch_read(
        self,
        object_type: str,
        ids: Sequence[str],
        properties: Sequence[str] = (),
        archived: bool = False,
        id_property: str | None = None,
        properties_with_history: Sequence[str] = (),
    ) -> BatchResult:
        """Objects by id, 100 a call. Ids HubSpot does not know end in `errors` (404), not raised.
        `properties_with_history`: each result also carries `propertiesWithHistory` (every version
        of those properties with its timestamp)."""
        out = BatchResult()
        unique = list(dict.fromkeys(str(i) for i in ids))
        for offset, chunk in chunks(unique, BATCH_SIZE):
            # propertiesWithHistory is required by HubSpot's BatchReadInputSimplePublicObjectId.
            body: dict[str, Any] = {
                "properties": list(properties),
                "propertiesWithHistory": list(properties_with_history),
                "inputs": [{"id": i} for i in chunk],
            }
            if id_property:
                body["idProperty"] = id_property
            page = self.request(
                "POST",
                self.paths.objects("/batch/read"),
                json=body,
                params={"archived": str(archived).lower()},
                object_type=object_type,
            )
            out.merge(_collect(page, list(chunk), list(range(offset, offset + len(chunk))), key=lambda x: x))
        return out

    def batch_create(self, object_type: str, inputs: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Create objects, 100 a call. Failed inputs are returned with their positions in `inputs`."""
        return self._batch_write(self.paths.objects("/batch/create"), object_type, inputs, creates=True)

    def batch_update(self, object_type: str, inputs: Sequence[Mapping[str, Any]]) -> BatchResult:
        """Update `{"id": …, "properties": {…}}` inputs, 100 a call; failures returned by id."""
        return self._batch_write(self.paths.objects("/batch/update"), object_type, inputs)

    def batch_archive(self, object_type: str, ids: Sequence[str]) -> BatchResult:
        """Archive objects by id, 100 a call (HubSpot answers 204 and reports nothing per id)."""
        return self._batch_write(
            self.paths.objects("/batch/archive"), object_type, [{"id": str(i)} for i in ids]
        )

    def _batch_write(
        self,
        template: str,
        object_type: str,
        inputs: Sequence[Mapping[str, Any]],
        creates: bool = False,
        size: int = BATCH_SIZE,
        **path_params: Any,
    ) -> BatchResult:
        out = BatchResult()
        items = [dict(i) for i in inputs]
        if creates:  # lets HubSpot name the failed input in a 207 (context.objectWriteTraceId)
            for pos, item in enumerate(items):
                item.setdefault("objectWriteTraceId", str(pos))
        # Calls spent isolating bad inputs are capped: a 400 that every input shares (a property missing
        # in the portal) must not cost two calls per input.
        write = _BatchWrite(template, object_type, creates, path_params, ISOLATION_BUDGET + len(items) // 10)
        for offset, chunk in chunks(items, size):
            positions = list(range(offset, offset + len(chunk)))
            out.merge(self._write_chunk(write, list(chunk), positions))
        return out

    def _write_chunk(
        self, write: _BatchWrite, chunk: list[dict[str, Any]], positions: list[int]
    ) -> BatchResult:
        try:
            page = self.request(
                "POST",
                write.template,
                json={"inputs": chunk},
                object_type=write.object_type,
                **write.path_params,
            )
        except RateLimitExhausted:
            raise
        except HubSpotError as exc:
            if exc.status == 400 and len(chunk) > 1 and write.budget > 0:
                return self._isolate(write, chunk, positions, exc)
            if exc.status in (401, 403):
                raise
            message = exc.message
            if write.creates and exc.status not in _INPUT_STATUSES:
                message += (
                    " (not repeated: HubSpot may or may not have created these; re-read before retrying)"
                )
            return _failed(positions, chunk, exc, message)
        if write.creates:
            return _collect(page, chunk, positions, key=lambda x: x.get("objectWriteTraceId"), trace=True)
        return _collect(page, chunk, positions, key=lambda x: str(x.get("id")))

    def _isolate(
        self, write: _BatchWrite, chunk: list[dict[str, Any]], positions: list[int], exc: HubSpotError
    ) -> BatchResult:
        """A 400 refuses the whole chunk for one bad input: drop the input it names, or halve."""
        named = _as_list(exc.context.get("index"))
        index = int(named[0]) if len(named) == 1 and named[0].isdigit() else -1
        if 0 <= index < len(chunk):
            result = _failed([positions[index]], [chunk[index]], exc, exc.message)
            rest = [i for i in range(len(chunk)) if i != index]
            parts = [rest] if rest else []
        else:
            result = BatchResult()
            half = len(chunk) // 2
            parts = [list(range(half)), list(range(half, len(chunk)))]
        for part in parts:
            items, where = [chunk[i] for i in part], [positions[i] for i in part]
            if write.budget <= 0:  # out of calls: the part fails with the error that covered it
                result.merge(_failed(where, items, exc, exc.message))
                continue
            write.budget -= 1
            result.merge(self._write_chunk(write, items, where))
        return result

    # -- single objects --------------------------------------------------------------------------

    def get_object(
        self, object_type: str, object_id: str, properties: Sequence[str] = (), archived: bool = False
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"archived": str(archived).lower()}
        if properties:
            params["properties"] = ",".join(properties)
        result: dict[str, Any] = self.request(
            "GET",
            self.paths.objects("/{object_id}"),
            params=params,
            object_type=object_type,
            object_id=object_id,
        )
        return result

    def create_object(
        self, object_type: str, properties: Mapping[str, Any], associations: Sequence[Mapping[str, Any]] = ()
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"properties": dict(properties)}
        if associations:
            body["associations"] = list(associations)
        result: dict[str, Any] = self.request(
            "POST", self.paths.objects(), json=body, object_type=object_type
        )
        return result

    def update_object(
        self, object_type: str, object_id: str, properties: Mapping[str, Any]
    ) -> dict[str, Any]:
        result: dict[str, Any] = self.request(
            "PATCH",
            self.paths.objects("/{object_id}"),
            json={"properties": dict(properties)},
            object_type=object_type,
            object_id=object_id,
        )
        return result

    def archive_object(self, object_type: str, object_id: str) -> None:
        self.request(
            "DELETE",
            self.paths.objects("/{object_id}"),
            object_type=object_type,
            object_id=object_id,
        )

    # -- associations ------------------------------------------------------------------------

    def batch_read_associations_detailed(
        self, from_type: str, to_type: str, ids: Sequence[str]
    ) -> dict[str, list[dict[str, Any]]]:
        """from id -> [{"id", "type_ids", "labels"}]; every asked id is a key (empty when none)."""
        unique = list(dict.fromkeys(str(i) for i in ids))
        out: dict[str, list[dict[str, Any]]] = {i: [] for i in unique}
        for _, chunk in chunks(unique, ASSOCIATION_READ_BATCH):
            page = self.request(
                "POST",
                self.paths.associations("/batch/read"),
                json={"inputs": [{"id": i} for i in chunk]},
                from_type=from_type,
                to_type=to_type,
            )
            # Ids with no associations come back in `errors`; an empty list is the right answer for them.
            for result in (page or {}).get("results", []):
                from_id = str(result["from"]["id"])
                out.setdefault(from_id, []).extend(_links(result.get("to", [])))
                after = ((result.get("paging") or {}).get("next") or {}).get("after")
                if after:
                    out[from_id].extend(self._more_links(from_type, from_id, to_type, after))
        return out

    def _more_links(
        self, from_type: str, from_id: str, to_type: str, after: str | None
    ) -> list[dict[str, Any]]:
        """The next pages of one record's links: batch/read with the page's `after` beside the id
        (HubSpot's reference for v4 and the date-based versions; no per-record path is needed)."""
        links: list[dict[str, Any]] = []
        while after:
            page = self.request(
                "POST",
                self.paths.associations("/batch/read"),
                json={"inputs": [{"id": from_id, "after": after}]},
                from_type=from_type,
                to_type=to_type,
            )
            results = (page or {}).get("results", [])
            after = None
            for result in results:
                links.extend(_links(result.get("to", [])))
                after = ((result.get("paging") or {}).get("next") or {}).get("after")
        return links

    def batch_read_associations(
        self, from_type: str, to_type: str, ids: Sequence[str]
    ) -> dict[str, list[str]]:
        """from id -> associated ids (v4, 1,000 ids a call)."""
        detailed = self.batch_read_associations_detailed(from_type, to_type, ids)
        return {k: [link["id"] for link in v] for k, v in detailed.items()}

    def batch_create_associations(
        self,
        from_type: str,
        to_type: str,
        pairs: Sequence[tuple[str, str]],
        type_id: int,
        category: str = "HUBSPOT_DEFINED",
    ) -> BatchResult:
        """Associate (from id, to id) pairs with one association type; failures by position."""
        inputs = [
            {
                "from": {"id": str(a)},
                "to": {"id": str(b)},
                "types": [{"associationCategory": category, "associationTypeId": int(type_id)}],
            }
            for a, b in pairs
        ]
        return self._batch_write(
            self.paths.associations("/batch/create"),
            from_type,
            inputs,
            size=ASSOCIATION_CREATE_BATCH,
            from_type=from_type,
            to_type=to_type,
        )

    # -- properties ------------------------------------------------------------------------------

    def list_properties(self, object_type: str) -> list[dict[str, Any]]:
        page = self.request("GET", self.paths.properties(), object_type=object_type)
        return list((page or {}).get("results", []))

    def get_property(self, object_type: str, name: str) -> dict[str, Any] | None:
        """One property definition, or None when the portal has no such property."""
        try:
            result: dict[str, Any] = self.request(
                "GET", self.paths.properties("/{name}"), object_type=object_type, name=name
            )
        except HubSpotError as exc:
            if exc.status == 404:
                return None
            raise
        return result

    def update_property(self, object_type: str, name: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH a property definition (type, fieldType, options, label …); HubSpot's PropertyUpdate."""
        result: dict[str, Any] = self.request(
            "PATCH",
            self.paths.properties("/{name}"),
            json=dict(changes),
            object_type=object_type,
            name=name,
        )
        return result

    # -- the token ------------------------------------------------------------------------------

    def token_info(self) -> dict[str, Any]:
        """The token's portal, app and `scopes`, as far as HubSpot tells them.

        A private app token: `POST /oauth/v2/private-apps/get/access-token-info`. A client-credentials
        token: what the token endpoint granted (HubSpot's introspection, `GET
        /oauth/v1/access-tokens/{token}`, carries the token in the URL, which urllib3 logs; not used).
        A service key: HubSpot documents no introspection, ValueError says so."""
        mode = self.credentials.mode
        if mode is AuthMode.SERVICE_KEY:
            raise ValueError("HubSpot documents no introspection for service keys")
        if isinstance(self.credentials, ClientCredentials):
            self.credentials.current()
            return self.credentials.granted()
        result: dict[str, Any] = self.request(
            "POST",
            self.paths.token_info(),
            json={"tokenKey": self.credentials.current()},
        )
        return result

    # -- the webhooks journal (a developer-platform app's change events, kept three days) ---------

    def _journal(self, portal_id: int | None) -> tuple[str, dict[str, Any]]:
        """The local journal of one account when its id is given, else the app's global journal."""
        if portal_id is None:
            return f"/webhooks-journal/journal/{JOURNAL_VERSION}", {}
        return f"/webhooks-journal/journal-local/{JOURNAL_VERSION}", {"installPortalId": portal_id}

    def _journal_entry(
        self, method: str, tail: str, portal_id: int | None, **path: Any
    ) -> JournalEntry | None:
        base, params = self._journal(portal_id)
        try:
            body = self.request(method, base + tail, params=params, **path)
        except HubSpotError as exc:
            if exc.status == 404:
                return None
            raise
        return None if body is None else JournalEntry.from_reply(body)

    def journal_earliest(self, portal_id: int | None = None) -> JournalEntry | None:
        """The oldest entry the journal still holds; None when it holds none."""
        return self._journal_entry("GET", "/earliest", portal_id)

    def journal_latest(self, portal_id: int | None = None) -> JournalEntry | None:
        """The newest entry; None when the journal holds none."""
        return self._journal_entry("GET", "/latest", portal_id)

    def journal_next(self, offset: str, portal_id: int | None = None) -> JournalEntry | None:
        """The entry after `offset`; None when there is none yet. Raises JournalOffsetExpired when
        the journal no longer holds `offset` (HubSpot answers 404 for "expired or doesn't exist"; the
        offset is then read back by batch read, so a 404 that only means "nothing newer" is not taken
        for an expiry)."""
        base, params = self._journal(portal_id)
        try:
            body = self.request("GET", base + "/offset/{offset}/next", params=params, offset=offset)
        except HubSpotError as exc:
            if exc.status != 404:
                raise
            found, _ = self.journal_read([offset], portal_id)
            if found:
                return None
            raise JournalOffsetExpired(
                404,
                exc.category,
                f"the webhooks journal no longer holds offset {offset}: it keeps three days of changes",
                exc.correlation_id,
                method="GET",
                path=exc.path,
            ) from None
        return None if body is None else JournalEntry.from_reply(body)

    def journal_read(
        self, offsets: Sequence[str], portal_id: int | None = None
    ) -> tuple[list[JournalEntry], list[str]]:
        """(the entries the journal holds for these offsets, the offsets it does not hold), 100 a call."""
        base, params = self._journal(portal_id)
        found: list[JournalEntry] = []
        for _, chunk in chunks(list(offsets), JOURNAL_BATCH_MAX):
            body = (
                self.request("POST", base + "/batch/read", params=params, json={"inputs": list(chunk)}) or {}
            )
            found += [JournalEntry.from_reply(r) for r in body.get("results", [])]
        held = {e.offset for e in found}
        return found, [o for o in offsets if o not in held]

    def journal_file(self, entry: JournalEntry) -> Any:
        """An entry's JSON file from its pre-signed URL. The URL carries its own signature, so no
        Authorization header is sent (HubSpot's reference says so) and the token never leaves."""
        endpoint = "GET webhooks-journal file"
        # The URL comes from HubSpot's answer: https only (plain http only when the API itself is, as
        # the local emulator is), so a tampered answer cannot turn the client into a plain-HTTP fetcher.
        allowed = ("https://",) if self.base_url.startswith("https://") else ("https://", "http://")
        if not entry.url.startswith(allowed):
            raise HubSpotError(
                0,
                None,
                f"journal file of offset {entry.offset}: its URL is not https",
                method="GET",
                path="journal file",
            )
        try:
            response = self.session.get(
                entry.url, headers={"Accept": "application/json"}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            self.stats.record(endpoint, 0)
            raise HubSpotError(
                0, "CONNECTION", type(exc).__name__, method="GET", path="journal file"
            ) from exc
        self.stats.record(endpoint, response.status_code)
        if response.status_code >= 400:
            # The pre-signed URL is a secret of its own: name the offset, never the URL.
            raise HubSpotError(
                response.status_code,
                None,
                f"journal file of offset {entry.offset} not readable (its URL expires {entry.expires_at})",
                method="GET",
                path="journal file",
            )
        return self._body(response)

    # -- the webhooks journal's subscriptions (what it records; managed by API only) -------------

    def journal_subscriptions(self) -> list[dict[str, Any]]:
        """The app's journal subscriptions, every account (`developer.webhooks_journal.subscriptions.read`)."""
        body = self.request("GET", JOURNAL_SUBSCRIPTIONS) or {}
        return list(body.get("results", []))

    def journal_subscribe(self, subscription: Mapping[str, Any]) -> dict[str, Any]:
        """Create or update (HubSpot: upsert) one subscription: `subscriptionType`, `portalId`,
        `actions`, `objectTypeId`, `objectIds`, `properties` (`...subscriptions.write`); the answer."""
        result: dict[str, Any] = self.request("POST", JOURNAL_SUBSCRIPTIONS, json=dict(subscription))
        return result

    def journal_unsubscribe(self, subscription_id: int) -> None:
        """Delete one subscription by its id."""
        self.request("DELETE", JOURNAL_SUBSCRIPTIONS + "/{subscription_id}", subscription_id=subscription_id)

    # -- pipelines -------------------------------------------------------------------------------

    def list_pipelines(self, object_type: str = "deals") -> list[dict[str, Any]]:
        """Pipelines of an object type, each with its `stages` (ids and labels)."""
        page = self.request("GET", self.paths.pipelines(), object_type=object_type)
        return list((page or {}).get("results", []))

    def ensure_properties(self, object_type: str, definitions: Sequence[Mapping[str, Any]]) -> list[str]:
        """Create the definitions HubSpot lacks; returns the names created (empty when all exist)."""
        existing = {p["name"] for p in self.list_properties(object_type)}
        created = []
        for definition in definitions:
            name = definition["name"]
            if name in existing:
                continue
            try:
                self.request("POST", self.paths.properties(), json=dict(definition), object_type=object_type)
            except HubSpotError as exc:
                if exc.status == 409:  # created meanwhile by someone else: that is the goal
                    continue
                raise
            created.append(name)
        return created


@dataclass(frozen=True)
class JournalEntry:
    """One journal entry as HubSpot answers it: its offset, and where and until when its file is."""

    offset: str
    url: str
    expires_at: str

    @classmethod
    def from_reply(cls, body: Mapping[str, Any]) -> JournalEntry:
        try:
            return cls(str(body["currentOffset"]), str(body["url"]), str(body.get("expiresAt", "")))
        except KeyError as exc:
            raise HubSpotError(
                200, None, f"journal entry without {exc.args[0]!r}: expected currentOffset and url"
            ) from None


@dataclass
class _BatchWrite:
    """What every chunk of one batch write shares, with the calls left for isolating bad inputs."""

    template: str
    object_type: str
    creates: bool
    path_params: Mapping[str, Any]
    budget: int


def _failed(
    positions: list[int], items: list[dict[str, Any]], exc: HubSpotError, message: str
) -> BatchResult:
    """Every input failed with `exc` (and `message`)."""
    return BatchResult(
        errors=[
            BatchFailure(pos, _strip_trace(item), exc.status, exc.category, message, exc.rule)
            for pos, item in zip(positions, items, strict=True)
        ]
    )


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


def _links(to: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "id": str(t["toObjectId"]),
            "type_ids": [a.get("typeId") for a in t.get("associationTypes", [])],
            "labels": [a.get("label") for a in t.get("associationTypes", []) if a.get("label")],
        }
        for t in to
    ]


def _strip_trace(item: Any) -> Any:
    """The input as the caller gave it (without the trace id this client added)."""
    if isinstance(item, dict) and "objectWriteTraceId" in item:
        return {k: v for k, v in item.items() if k != "objectWriteTraceId"}
    return item


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value]
    return [str(value)]


def _collect(page: Any, chunk: list[Any], positions: list[int], key: Any, trace: bool = False) -> BatchResult:
    """Results of one chunk and its 207 errors, each error pinned to the inputs it names.

    An error that names no input is pinned to every input that has no result.
    """
    page = page or {}
    results = list(page.get("results", []))
    position = {key(item): pos for pos, item in zip(positions, chunk, strict=True)}
    by_position = dict(zip(positions, chunk, strict=True))
    done: set[int] = set()
    if trace:
        traced = [r.get("objectWriteTraceId") for r in results]
        done = {position[t] for t in traced if t in position} if all(traced) else set()
        if not all(traced) and len(results) == len(chunk):
            done = set(by_position)
    else:
        done = {position[str(r.get("id"))] for r in results if str(r.get("id")) in position}
    failures: dict[int, BatchFailure] = {}
    unpinned = []
    for error in page.get("errors", []):
        context = error.get("context") or {}
        names = _as_list(context.get("objectWriteTraceId")) if trace else _as_list(context.get("ids"))
        hits = [position[n] for n in names if n in position]
        status = _status_of(error)
        for pos in hits or []:
            failures[pos] = BatchFailure(
                pos,
                _strip_trace(by_position[pos]),
                status,
                error.get("category"),
                str(error.get("message", "")),
                refusal_from(error),
            )
        if not hits:
            unpinned.append((status, error))
    for status, error in unpinned:
        for pos, item in by_position.items():
            if pos not in done and pos not in failures:
                failures[pos] = BatchFailure(
                    pos,
                    _strip_trace(item),
                    status,
                    error.get("category"),
                    str(error.get("message", "")),
                    refusal_from(error),
                )
    return BatchResult(results=results, errors=[failures[p] for p in sorted(failures)])


def _status_of(error: Mapping[str, Any]) -> int:
    """HubSpot's 207 errors say `"status": "error"`; the category tells the HTTP-like status."""
    if str(error.get("status", "")).isdigit():
        return int(error["status"])
    return {"OBJECT_NOT_FOUND": 404, "VALIDATION_ERROR": 400, "CONFLICT": 409}.get(
        str(error.get("category")), 400
    )
