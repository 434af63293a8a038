"""The Zoho Accounts emulator: users, clients, grant codes, tokens, limits (api-facts §1).

Everything here is plain Python over SQLite and the sandbox clock, so the rules (expiry,
single use, PKCE, throttles, eviction) are tested without HTTP; ``routes.py`` only parses
requests and renders what this module decides.

Credentials never reach the database in usable form (only SHA-256 digests), and never
appear in log records or exception messages: logs name clients and users, nothing more.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode

from zbooks.sandbox.accounts import tokens
from zbooks.sandbox.accounts.consent import render_consent_page, render_error_page
from zbooks.sandbox.accounts.scopes import (
    is_valid_scope,
    is_well_formed,
    normalise,
    parse_scopes,
)
from zbooks.sandbox.clock import Clock
from zbooks.sandbox.config import SandboxConfig
from zbooks.sandbox.db import Database

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

_log = logging.getLogger("zbooks.sandbox.accounts")

LOCATION = "us"
# Every DC's accounts server is this sandbox, so a multi-DC client lands here whatever it picks.
LOCATIONS = ("us", "eu", "in", "au", "jp", "ca", "cn", "sa", "uk")
CONSENT_TTL = 600.0  # seconds a consent page stays answerable
CLIENT_TYPES = ("server", "self")
THROTTLE_DESCRIPTION = (
    "You have made too many requests continuously. Please try again after some time."
)
# Live grants by token digest: every API request validates its token, and the lookup
# (query + JSON + scope parsing) cost more than serving a record. Any deletion of access
# tokens (revoke, eviction, expiry sweep) clears it, so revocation stays immediate.
_GRANT_CACHE_SIZE = 4096
_SOID_RE = re.compile(r"^zohobooks\.(\d+)$", re.IGNORECASE)

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts_users (
    user_id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts_clients (
    client_id TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    client_type TEXT NOT NULL,
    redirect_uris TEXT NOT NULL,
    owner_user_id TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    redirect_uri TEXT,
    scopes TEXT NOT NULL,
    issue_refresh INTEGER NOT NULL,
    code_challenge TEXT,
    code_challenge_method TEXT,
    org_id TEXT,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    used_at REAL
);
CREATE TABLE IF NOT EXISTS accounts_refresh_tokens (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    org_id TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_refresh_by_owner
    ON accounts_refresh_tokens (user_id, client_id);
CREATE TABLE IF NOT EXISTS accounts_access_tokens (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    refresh_seq INTEGER,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    scopes TEXT NOT NULL,
    org_id TEXT,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_access_by_refresh ON accounts_access_tokens (refresh_seq);
CREATE INDEX IF NOT EXISTS accounts_access_by_expiry ON accounts_access_tokens (expires_at);
CREATE TABLE IF NOT EXISTS accounts_token_requests (
    refresh_seq INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_token_requests_by_refresh
    ON accounts_token_requests (refresh_seq, at);
CREATE TABLE IF NOT EXISTS accounts_code_issues (
    client_id TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_code_issues_by_client ON accounts_code_issues (client_id, at);
CREATE TABLE IF NOT EXISTS accounts_consent_requests (
    nonce_hash TEXT PRIMARY KEY,
    payload TEXT NOT NULL,
    expires_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class AccessGrant:
    """What a valid access token stands for; the Books layer checks scopes and org with it."""

    user_id: str
    client_id: str
    scopes: frozenset[str]  # lower-cased as granted
    org_id: str | None  # set for client_credentials tokens (soid=ZohoBooks.<org>)
    expires_at: float


class OAuthError(Exception):
    """A token- or revocation-endpoint failure, carrying Zoho's JSON error body.

    ``status`` None means "the configured ``oauth_error_status``" (200 like Zoho, or 400).
    The message is the error name only, never a credential.
    """

    def __init__(self, body: dict[str, str], status: int | None = None) -> None:
        super().__init__(body.get("error", "error"))
        self.body = body
        self.status = status

    @classmethod
    def named(cls, error: str, status: int | None = None) -> OAuthError:
        return cls({"error": error}, status)


def throttled() -> OAuthError:
    """The documented body for >10 token requests per refresh token in 10 minutes."""
    return OAuthError(
        {"error_description": THROTTLE_DESCRIPTION, "error": "Access Denied", "status": "failure"}
    )


@dataclass(frozen=True)
class AuthOutcome:
    """What the authorization endpoint answers: a redirect, the consent page or an error page."""

    kind: Literal["redirect", "consent", "error"]
    location: str = ""
    html: str = ""
    status: int = 200

    @classmethod
    def redirect(cls, location: str) -> AuthOutcome:
        return cls("redirect", location=location, status=302)

    @classmethod
    def error(cls, title: str, detail: str) -> AuthOutcome:
        return cls("error", html=render_error_page(title, detail), status=400)


def _with_query(url: str, pairs: list[tuple[str, str]]) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode(pairs)}"


class AccountsService:
    """Zoho Accounts for one sandbox: reads limits from ``config`` on every call, so the
    control plane can change them while the sandbox runs."""

    def __init__(self, db: Database, clock: Clock, config: SandboxConfig) -> None:
        self._db = db
        self._clock = clock
        self._config = config
        self._grants: dict[str, AccessGrant] = {}
        db.ensure_schema(SCHEMA)

    @property
    def config(self) -> SandboxConfig:
        return self._config

    # ------------------------------------------------------------------ users and clients

    def ensure_user(self, email: str, name: str) -> str:
        """Return the id (digits) of the user with ``email``, creating the user if needed."""
        key = email.strip().lower()
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT user_id FROM accounts_users WHERE email=?", (key,)
            ).fetchone()
            if row is not None:
                return str(row["user_id"])
            user_id = str(700_000_000 + self._db.next_counter("accounts", "user_id"))
            conn.execute(
                "INSERT INTO accounts_users(user_id, email, name, created_at) VALUES (?, ?, ?, ?)",
                (user_id, key, name, self._clock.time()),
            )
        _log.info("created user %s", user_id)
        return user_id

    def signed_in_user(self) -> dict[str, str]:
        """The browser's user on the consent page: the first user (created on demand)."""
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT user_id, email, name FROM accounts_users ORDER BY rowid LIMIT 1"
            ).fetchone()
        if row is None:
            self.ensure_user(self._config.user_email, self._config.user_name)
            return self.signed_in_user()
        return {"user_id": row["user_id"], "email": row["email"], "name": row["name"]}

    def get_user(self, user_id: str) -> dict[str, str] | None:
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT user_id, email, name FROM accounts_users WHERE user_id=?", (user_id,)
            ).fetchone()
        return None if row is None else dict(row)

    def register_client(
        self,
        *,
        name: str,
        redirect_uris: list[str],
        client_id: str | None = None,
        client_secret: str | None = None,
        client_type: str = "server",
    ) -> dict[str, Any]:
        """Register (or re-register, replacing name, URIs and secret) an API-console client.

        ``client_type`` is ``"server"`` (needs redirect URIs) or ``"self"`` (a Self Client:
        no redirect URI, codes issued from the console, owned by the signed-in user).
        A missing secret is generated; the plain secret is returned once and only its
        digest is stored.
        """
        if client_type not in CLIENT_TYPES:
            raise ValueError(f"client_type must be one of {CLIENT_TYPES}")
        uris = [] if client_type == "self" else [u for u in redirect_uris if u]
        if client_type == "server" and not uris:
            raise ValueError("a server-based client needs at least one redirect URI")
        cid = client_id or tokens.new_client_id()
        secret = client_secret or tokens.new_client_secret()
        owner = self.signed_in_user()["user_id"]
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO accounts_clients(client_id, secret_hash, name, client_type, "
                "redirect_uris, owner_user_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(client_id) DO UPDATE SET secret_hash=excluded.secret_hash, "
                "name=excluded.name, client_type=excluded.client_type, "
                "redirect_uris=excluded.redirect_uris",
                (
                    cid,
                    tokens.digest(secret),
                    name,
                    client_type,
                    json.dumps(uris),
                    owner,
                    self._clock.time(),
                ),
            )
        _log.info("registered %s client %s", client_type, cid)
        return {
            "client_id": cid,
            "client_secret": secret,
            "client_name": name,
            "redirect_uris": uris,
            "client_type": client_type,
        }

    def bootstrap_demo(self) -> dict[str, Any]:
        """Create the demo user and the demo client named in the config (idempotent)."""
        user_id = self.ensure_user(self._config.user_email, self._config.user_name)
        client = self.register_client(
            name=self._config.client_name,
            redirect_uris=[self._config.redirect_uri],
            client_id=self._config.client_id,
            client_secret=self._config.client_secret,
        )
        return {"user_id": user_id, **client}

    def get_client(self, client_id: str) -> dict[str, Any] | None:
        """A client's public description (never its secret or digest)."""
        row = self._client_row(client_id)
        if row is None:
            return None
        return {
            "client_id": row["client_id"],
            "client_name": row["name"],
            "client_type": row["client_type"],
            "redirect_uris": json.loads(row["redirect_uris"]),
            "owner_user_id": row["owner_user_id"],
        }

    def _client_row(self, client_id: str) -> sqlite3.Row | None:
        with self._db.read() as conn:
            row: sqlite3.Row | None = conn.execute(
                "SELECT * FROM accounts_clients WHERE client_id=?", (client_id,)
            ).fetchone()
        return row

    def authenticate_client(self, client_id: str | None, client_secret: str | None) -> sqlite3.Row:
        """The client row when id and secret match; otherwise the Zoho error for it."""
        if not client_id:
            raise OAuthError.named("invalid_request")
        row = self._client_row(client_id)
        if row is None:
            raise OAuthError.named("invalid_client")
        if not client_secret:
            raise OAuthError.named("invalid_request")
        if not tokens.digests_equal(tokens.digest(client_secret), row["secret_hash"]):
            raise OAuthError.named("invalid_client_secret")
        return row

    # ------------------------------------------------------------------ authorization

    def authorize(self, params: Mapping[str, str], *, base_url: str) -> AuthOutcome:
        """``GET /oauth/v2/auth``: validate, then show consent (or approve at once)."""
        client = self._client_row(params.get("client_id", ""))
        if client is None:
            return AuthOutcome.error(
                "Invalid Client", "The client_id passed does not belong to any registered client."
            )
        redirect_uri = params.get("redirect_uri", "")
        if not redirect_uri or redirect_uri not in json.loads(client["redirect_uris"]):
            return AuthOutcome.error(
                "Invalid Redirect Uri", "Redirect URI passed does not match with the one configured"
            )
        if params.get("response_type", "") != "code":
            # UNCONFIRMED: Zoho's page for this case; the implicit flow is not emulated.
            return AuthOutcome.error(
                "Invalid Response Type", "Only response_type=code is supported by the sandbox."
            )
        scopes = parse_scopes(params.get("scope"))
        bad = [s for s in scopes if not is_valid_scope(s)]
        if not scopes or bad:
            # Zoho shows an HTML page rather than redirecting. UNCONFIRMED detail lines.
            unknown = all(is_well_formed(s) for s in bad) and bool(bad)
            detail = (
                "Scope does not exist."
                if unknown
                else "The scope parameter is missing or malformed."
            )
            return AuthOutcome.error("Invalid OAuth Scope", detail)
        challenge = params.get("code_challenge") or None
        method = params.get("code_challenge_method") or "plain"  # plain is the default (§1.8)
        if method.lower() not in ("s256", "plain"):
            return AuthOutcome.error(
                "Invalid Code Challenge Method", "code_challenge_method must be S256 or plain."
            )
        user = self.signed_in_user()
        request = {
            "client_id": client["client_id"],
            "redirect_uri": redirect_uri,
            "scopes": scopes,
            "offline": params.get("access_type", "online").lower() == "offline",
            "prompt_consent": params.get("prompt", "").lower() == "consent",
            "state": params.get("state"),
            "code_challenge": challenge,
            "code_challenge_method": ("S256" if method.lower() == "s256" else "plain")
            if challenge
            else None,
            "user_id": user["user_id"],
        }
        if self._config.auto_approve:
            return self._approve(request, base_url=base_url)
        nonce = tokens.new_nonce()
        now = self._clock.time()
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM accounts_consent_requests WHERE expires_at <= ?", (now,))
            conn.execute(
                "INSERT INTO accounts_consent_requests(nonce_hash, payload, expires_at) "
                "VALUES (?, ?, ?)",
                (tokens.digest(nonce), json.dumps(request), now + CONSENT_TTL),
            )
        html = render_consent_page(
            client_name=client["name"],
            scopes=scopes,
            user_email=user["email"],
            nonce=nonce,
            offline=bool(request["offline"]),
        )
        return AuthOutcome("consent", html=html, status=200)

    def decide(self, nonce: str, decision: str, *, base_url: str) -> AuthOutcome:
        """The consent form's answer: ``accept`` issues a code, ``deny`` redirects an error."""
        if decision not in ("accept", "deny"):
            return AuthOutcome.error("Invalid Request", "Choose Accept or Deny.")
        now = self._clock.time()
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT payload, expires_at FROM accounts_consent_requests WHERE nonce_hash=?",
                (tokens.digest(nonce or ""),),
            ).fetchone()
            if row is not None:
                conn.execute(
                    "DELETE FROM accounts_consent_requests WHERE nonce_hash=?",
                    (tokens.digest(nonce),),
                )
        if row is None or row["expires_at"] <= now:
            return AuthOutcome.error(
                "Invalid Request", "This consent request has expired or was already answered."
            )
        request: dict[str, Any] = json.loads(row["payload"])
        if decision == "deny":
            _log.info("user %s denied client %s", request["user_id"], request["client_id"])
            return AuthOutcome.redirect(self._error_redirect(request, "access_denied"))
        return self._approve(request, base_url=base_url)

    def _error_redirect(self, request: Mapping[str, Any], error: str) -> str:
        pairs = [("error", error)]
        if request.get("state") is not None:
            pairs.append(("state", str(request["state"])))
        return _with_query(str(request["redirect_uri"]), pairs)

    def _approve(self, request: Mapping[str, Any], *, base_url: str) -> AuthOutcome:
        """Issue a grant code for an approved request, within the per-client issue limit."""
        if self._client_row(str(request["client_id"])) is None:
            return AuthOutcome.error("Invalid Client", "The client no longer exists.")
        now = self._clock.time()
        window = self._config.code_window
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM accounts_code_issues WHERE at <= ?", (now - window,))
            issued = conn.execute(
                "SELECT COUNT(*) FROM accounts_code_issues WHERE client_id=? AND at > ?",
                (request["client_id"], now - window),
            ).fetchone()[0]
            if issued >= self._config.codes_per_client_per_window:
                _log.warning("grant-code limit reached for client %s", request["client_id"])
                return AuthOutcome.redirect(self._error_redirect(request, "access_denied"))
            # "First consent" = the user holds no live refresh token for this client, so a
            # user who revoked everything gets a new one without prompt=consent.
            holds_refresh = conn.execute(
                "SELECT 1 FROM accounts_refresh_tokens WHERE user_id=? AND client_id=? LIMIT 1",
                (request["user_id"], request["client_id"]),
            ).fetchone()
            issue_refresh = bool(request["offline"]) and (
                bool(request["prompt_consent"]) or holds_refresh is None
            )
            conn.execute(
                "INSERT INTO accounts_code_issues(client_id, at) VALUES (?, ?)",
                (request["client_id"], now),
            )
            code = self._store_code(
                conn,
                client_id=str(request["client_id"]),
                user_id=str(request["user_id"]),
                redirect_uri=str(request["redirect_uri"]),
                scopes=list(request["scopes"]),
                issue_refresh=issue_refresh,
                code_challenge=request.get("code_challenge"),
                code_challenge_method=request.get("code_challenge_method"),
                org_id=None,
                ttl=self._config.code_ttl,
            )
        _log.info(
            "issued grant code for client %s user %s", request["client_id"], request["user_id"]
        )
        pairs: list[tuple[str, str]] = []
        if request.get("state") is not None:
            pairs.append(("state", str(request["state"])))
        pairs += [("code", code), ("location", LOCATION), ("accounts-server", base_url)]
        return AuthOutcome.redirect(_with_query(str(request["redirect_uri"]), pairs))

    def _store_code(
        self,
        conn: sqlite3.Connection,
        *,
        client_id: str,
        user_id: str,
        redirect_uri: str | None,
        scopes: list[str],
        issue_refresh: bool,
        code_challenge: str | None,
        code_challenge_method: str | None,
        org_id: str | None,
        ttl: float,
    ) -> str:
        now = self._clock.time()
        code = tokens.new_token()
        conn.execute("DELETE FROM accounts_codes WHERE expires_at <= ?", (now - 86_400,))
        conn.execute(
            "INSERT INTO accounts_codes(code_hash, client_id, user_id, redirect_uri, scopes, "
            "issue_refresh, code_challenge, code_challenge_method, org_id, created_at, "
            "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tokens.digest(code),
                client_id,
                user_id,
                redirect_uri,
                json.dumps(scopes),
                int(issue_refresh),
                code_challenge,
                code_challenge_method,
                org_id,
                now,
                now + ttl,
            ),
        )
        return code

    def issue_self_client_code(
        self,
        client_id: str,
        scope: str,
        *,
        user_id: str | None = None,
        org_id: str | None = None,
        expires_in: int | None = None,
    ) -> str:
        """What the API console's "Generate Code" does for a Self Client.

        The code needs no redirect URI, always yields a refresh token, lasts ``expires_in``
        seconds (default ``config.self_client_code_ttl``; Zoho offers 3/5/7/10 minutes) and,
        with ``org_id``, binds the resulting tokens to that organization. Console actions
        are not subject to the per-client grant-code limit of the authorization endpoint.
        """
        client = self._client_row(client_id)
        if client is None or client["client_type"] != "self":
            raise ValueError("self-client codes can only be issued for a registered Self Client")
        scopes = parse_scopes(scope)
        if not scopes or not all(is_valid_scope(s) for s in scopes):
            raise ValueError("scope is missing or malformed")
        owner = user_id or client["owner_user_id"] or self.signed_in_user()["user_id"]
        ttl = self._config.self_client_code_ttl if expires_in is None else expires_in
        with self._db.transaction() as conn:
            code = self._store_code(
                conn,
                client_id=client_id,
                user_id=owner,
                redirect_uri=None,
                scopes=scopes,
                issue_refresh=True,
                code_challenge=None,
                code_challenge_method=None,
                org_id=org_id,
                ttl=ttl,
            )
        _log.info("issued self-client code for client %s user %s", client_id, owner)
        return code

    # ------------------------------------------------------------------ token endpoint

    def token(self, params: Mapping[str, str], *, base_url: str) -> dict[str, Any]:
        """``POST /oauth/v2/token``: the success body, or :class:`OAuthError`."""
        grant_type = params.get("grant_type", "")
        if not grant_type:
            raise OAuthError.named("invalid_request")
        if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
            raise OAuthError.named("unsupported_grant_type")
        client = self.authenticate_client(params.get("client_id"), params.get("client_secret"))
        if grant_type == "authorization_code":
            return self._grant_code(client, params, base_url)
        if grant_type == "refresh_token":
            return self._grant_refresh(client, params, base_url)
        return self._grant_client_credentials(client, params, base_url)

    def _body(
        self, access: str, refresh: str | None, scopes: list[str], base_url: str
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"access_token": access}
        if refresh is not None:
            body["refresh_token"] = refresh
        body.update(
            scope=" ".join(scopes),
            api_domain=base_url,
            token_type="Bearer",
            expires_in=self._config.token_ttl,
        )
        return body

    def _grant_code(
        self, client: sqlite3.Row, params: Mapping[str, str], base_url: str
    ) -> dict[str, Any]:
        code = params.get("code", "")
        if not code:
            raise OAuthError.named("invalid_request")
        now = self._clock.time()
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM accounts_codes WHERE code_hash=?", (tokens.digest(code),)
            ).fetchone()
            if (
                row is None
                or row["used_at"] is not None
                or now >= row["expires_at"]
                or row["client_id"] != client["client_id"]
            ):
                raise OAuthError.named("invalid_code")
            if row["redirect_uri"] is not None:  # Self-client codes have none to match
                sent = params.get("redirect_uri", "")
                if not sent:
                    raise OAuthError.named("invalid_request")
                if sent != row["redirect_uri"]:
                    raise OAuthError.named("invalid_redirect_uri")
            if row["code_challenge"]:
                verifier = params.get("code_verifier", "")
                if not verifier:
                    raise OAuthError.named("invalid_request")
                if not tokens.pkce_matches(
                    verifier, row["code_challenge"], row["code_challenge_method"] or "plain"
                ):
                    # UNCONFIRMED: Zoho's error for a wrong verifier; treated as a bad grant.
                    raise OAuthError.named("invalid_code")
            conn.execute(
                "UPDATE accounts_codes SET used_at=? WHERE code_hash=?", (now, row["code_hash"])
            )
            scopes: list[str] = json.loads(row["scopes"])
            refresh: str | None = None
            refresh_seq: int | None = None
            if row["issue_refresh"]:
                refresh, refresh_seq = self._create_refresh(
                    conn, row["client_id"], row["user_id"], scopes, row["org_id"]
                )
            access = self._mint_access(
                conn,
                refresh_seq=refresh_seq,
                client_id=row["client_id"],
                user_id=row["user_id"],
                scopes=scopes,
                org_id=row["org_id"],
            )
        _log.info("exchanged grant code for client %s user %s", row["client_id"], row["user_id"])
        return self._body(access, refresh, scopes, base_url)

    def _grant_refresh(
        self, client: sqlite3.Row, params: Mapping[str, str], base_url: str
    ) -> dict[str, Any]:
        refresh = params.get("refresh_token", "")
        if not refresh:
            raise OAuthError.named("invalid_request")
        now = self._clock.time()
        window = self._config.token_request_window
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT * FROM accounts_refresh_tokens WHERE token_hash=?",
                (tokens.digest(refresh),),
            ).fetchone()
            if row is None or row["client_id"] != client["client_id"]:
                raise OAuthError.named("invalid_code")
            conn.execute("DELETE FROM accounts_token_requests WHERE at <= ?", (now - window,))
            recent = conn.execute(
                "SELECT COUNT(*) FROM accounts_token_requests WHERE refresh_seq=? AND at > ?",
                (row["seq"], now - window),
            ).fetchone()[0]
            if recent >= self._config.token_requests_per_window:
                # Only granted requests are logged, so the window frees up 10 minutes after
                # the oldest granted one, however often the client hammers meanwhile.
                _log.warning(
                    "token-request throttle for client %s user %s", row["client_id"], row["user_id"]
                )
                raise throttled()
            conn.execute(
                "INSERT INTO accounts_token_requests(refresh_seq, at) VALUES (?, ?)",
                (row["seq"], now),
            )
            scopes: list[str] = json.loads(row["scopes"])
            # The optional ``scope`` parameter is ignored: the token keeps the consented scopes.
            access = self._mint_access(
                conn,
                refresh_seq=row["seq"],
                client_id=row["client_id"],
                user_id=row["user_id"],
                scopes=scopes,
                org_id=row["org_id"],
            )
        _log.info("refreshed access token for client %s user %s", row["client_id"], row["user_id"])
        return self._body(access, None, scopes, base_url)

    def _grant_client_credentials(
        self, client: sqlite3.Row, params: Mapping[str, str], base_url: str
    ) -> dict[str, Any]:
        if client["client_type"] != "self":
            # UNCONFIRMED: Zoho's string; RFC 6749's name for "this client may not use this".
            raise OAuthError.named("unauthorized_client")
        match = _SOID_RE.match(params.get("soid", "").strip())
        if match is None:
            raise OAuthError.named("missing_org_info")
        org_id = match.group(1)
        with self._db.read() as conn:
            org = conn.execute("SELECT 1 FROM organizations WHERE org_id=?", (org_id,)).fetchone()
        if org is None:
            # UNCONFIRMED: an soid naming no organization is answered like a missing one.
            raise OAuthError.named("missing_org_info")
        scopes = parse_scopes(params.get("scope"))
        if not scopes or not all(is_valid_scope(s) for s in scopes):
            raise OAuthError.named("invalid_scope")
        user_id = client["owner_user_id"] or self.signed_in_user()["user_id"]
        with self._db.transaction() as conn:
            access = self._mint_access(
                conn,
                refresh_seq=None,
                client_id=client["client_id"],
                user_id=user_id,
                scopes=scopes,
                org_id=org_id,
            )
        _log.info("client-credentials token for client %s org %s", client["client_id"], org_id)
        return self._body(access, None, scopes, base_url)

    def _create_refresh(
        self,
        conn: sqlite3.Connection,
        client_id: str,
        user_id: str,
        scopes: list[str],
        org_id: str | None,
    ) -> tuple[str, int]:
        """A new refresh token; beyond the per-(user, client) cap the oldest silently goes."""
        cap = max(1, self._config.max_refresh_tokens_per_user_client)
        held = [
            int(r["seq"])
            for r in conn.execute(
                "SELECT seq FROM accounts_refresh_tokens WHERE user_id=? AND client_id=? "
                "ORDER BY seq",
                (user_id, client_id),
            )
        ]
        for seq in held[: max(0, len(held) - cap + 1)]:
            self._delete_refresh(conn, seq)
            _log.info("evicted oldest refresh token of client %s user %s", client_id, user_id)
        token = tokens.new_token()
        cursor = conn.execute(
            "INSERT INTO accounts_refresh_tokens(token_hash, client_id, user_id, scopes, org_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (
                tokens.digest(token),
                client_id,
                user_id,
                json.dumps(scopes),
                org_id,
                self._clock.time(),
            ),
        )
        assert cursor.lastrowid is not None
        return token, int(cursor.lastrowid)

    def _delete_refresh(self, conn: sqlite3.Connection, seq: int) -> None:
        """Remove a refresh token and everything minted from it (cascade by hand)."""
        conn.execute("DELETE FROM accounts_access_tokens WHERE refresh_seq=?", (seq,))
        self._grants.clear()
        conn.execute("DELETE FROM accounts_token_requests WHERE refresh_seq=?", (seq,))
        conn.execute("DELETE FROM accounts_refresh_tokens WHERE seq=?", (seq,))

    def _mint_access(
        self,
        conn: sqlite3.Connection,
        *,
        refresh_seq: int | None,
        client_id: str,
        user_id: str,
        scopes: list[str],
        org_id: str | None,
    ) -> str:
        """A new access token; beyond the active cap per refresh token the oldest goes."""
        now = self._clock.time()
        conn.execute("DELETE FROM accounts_access_tokens WHERE expires_at <= ?", (now,))
        self._grants.clear()
        if refresh_seq is not None:
            cap = max(1, self._config.max_access_tokens_per_refresh_token)
            active = [
                int(r["seq"])
                for r in conn.execute(
                    "SELECT seq FROM accounts_access_tokens WHERE refresh_seq=? ORDER BY seq",
                    (refresh_seq,),
                )
            ]
            for seq in active[: max(0, len(active) - cap + 1)]:
                conn.execute("DELETE FROM accounts_access_tokens WHERE seq=?", (seq,))
                self._grants.clear()
        token = tokens.new_token()
        conn.execute(
            "INSERT INTO accounts_access_tokens(token_hash, refresh_seq, client_id, user_id, "
            "scopes, org_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tokens.digest(token),
                refresh_seq,
                client_id,
                user_id,
                json.dumps(scopes),
                org_id,
                now,
                now + self._config.token_ttl,
            ),
        )
        return token

    # ------------------------------------------------------------------ validation, revocation

    def validate_access_token(self, token: str) -> AccessGrant | None:
        """The grant behind a live access token; None if unknown, expired, evicted or revoked."""
        if not token:
            return None
        key = tokens.digest(token)
        cached = self._grants.get(key)
        if cached is not None:
            return cached if self._clock.time() < cached.expires_at else None
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT user_id, client_id, scopes, org_id, expires_at "
                "FROM accounts_access_tokens WHERE token_hash=?",
                (key,),
            ).fetchone()
        if row is None or self._clock.time() >= row["expires_at"]:
            return None
        grant = AccessGrant(
            user_id=row["user_id"],
            client_id=row["client_id"],
            scopes=normalise(json.loads(row["scopes"])),
            org_id=row["org_id"],
            expires_at=float(row["expires_at"]),
        )
        if len(self._grants) >= _GRANT_CACHE_SIZE:
            self._grants.clear()
        self._grants[key] = grant
        return grant

    def revoke(self, token: str, *, client_id: str | None = None) -> bool:
        """Revoke a refresh token (with every access token minted from it) or one access token.

        With ``client_id``, only that client's tokens qualify. False when nothing matched.
        """
        if not token:
            return False
        key = tokens.digest(token)
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT seq, client_id, user_id FROM accounts_refresh_tokens WHERE token_hash=?",
                (key,),
            ).fetchone()
            if row is not None and client_id in (None, row["client_id"]):
                self._delete_refresh(conn, int(row["seq"]))
                _log.info(
                    "revoked refresh token of client %s user %s", row["client_id"], row["user_id"]
                )
                return True
            access = conn.execute(
                "SELECT seq, client_id FROM accounts_access_tokens WHERE token_hash=?", (key,)
            ).fetchone()
            if access is not None and client_id in (None, access["client_id"]):
                conn.execute("DELETE FROM accounts_access_tokens WHERE seq=?", (access["seq"],))
                self._grants.clear()
                _log.info("revoked an access token of client %s", access["client_id"])
                return True
        return False

    def server_info(self, base_url: str) -> dict[str, Any]:
        """``GET /oauth/serverinfo`` (shape UNCONFIRMED, see api-facts §1.1)."""
        return {"result": "success", "locations": {loc: base_url for loc in LOCATIONS}}

    def starlette_routes(self) -> list[BaseRoute]:
        """The Accounts endpoints, ready to mount in the sandbox's Starlette app."""
        from zbooks.sandbox.accounts.routes import build_routes

        return build_routes(self)
