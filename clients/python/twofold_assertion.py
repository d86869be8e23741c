"""Check twofold's assertions offline: the JWT a verify or a confirm answers with.

    from twofold_assertion import AssertionRejected, verify_assertion

    try:
        claims = verify_assertion(
            answer.assertion, twofold_url="https://mfa.example.com", tenant="default", user="alice"
        )
    except AssertionRejected as refused:
        ...  # no second factor: refuse the sign-in (str(refused) says why)

What is checked (docs/assertions.md): the EdDSA (Ed25519) signature against the key its `kid`
names in twofold's `/.well-known/jwks.json` (any other `alg`, `none` included, is refused before
any key is looked up); `iss` equal to twofold's public URL; `aud` the tenant; `sub` the user;
`exp` in the future and `iat` not in it (`leeway` seconds of clock skew); and `amr` holding at
least one of `allowed_amr`.

The keys are fetched once and cached per twofold URL (a process-wide `Jwks`): fetched again after
`max_age` seconds, or when a token names a `kid` the cache does not hold (a rotation), but never
more than once per `min_refetch_interval` (60 s), so forged `kid`s cannot make you hammer twofold.

A successful check does not make the assertion single-use: twofold does that for `step_up`;
a relying party that must refuse a replayed assertion keeps the `jti`s it saw until their `exp`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import httpx
import jwt

__all__ = [
    "DEFAULT_AMR",
    "AssertionRejected",
    "Jwks",
    "JwksUnavailable",
    "verify_assertion",
]

#: Every factor twofold asserts (RFC 8176): app or token codes, hardware and synced security
#: keys, texted codes, recovery codes. Pass a narrower set to require e.g. a hardware factor
#: (`{"hwk"}`) or to refuse SMS.
DEFAULT_AMR = frozenset({"otp", "hwk", "swk", "sms", "recovery"})


class AssertionRejected(Exception):
    """The assertion must not be accepted; the message says why."""


class JwksUnavailable(AssertionRejected):
    """twofold's JWKS could not be fetched, so the assertion could not be checked."""


class Jwks:
    """The signing keys of one twofold, from its `/.well-known/jwks.json`, cached.

    `fetch` (a function of the URL returning the parsed JSON) and `clock` are for tests.
    """

    def __init__(
        self,
        twofold_url: str,
        *,
        max_age: float = 300.0,
        min_refetch_interval: float = 60.0,
        timeout: float = 5.0,
        fetch: Callable[[str], Mapping[str, Any]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = twofold_url.rstrip("/") + "/.well-known/jwks.json"
        self.max_age = max_age
        self.min_refetch_interval = min_refetch_interval
        self.timeout = timeout
        self.fetches = 0  # how many times the JWKS was requested
        self._fetch = fetch or self._http_get
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None  # last success
        self._tried_at: float | None = None  # last attempt, successful or not
        self._error: str | None = None  # why the last attempt failed
        self._lock = threading.Lock()

    def _http_get(self, url: str) -> Mapping[str, Any]:
        answer = httpx.get(url, timeout=self.timeout, follow_redirects=False)
        answer.raise_for_status()
        return answer.json()

    def key(self, kid: str) -> jwt.PyJWK:
        """The Ed25519 key named `kid`, fetching the JWKS when the cache is old or lacks it."""
        with self._lock:
            now = self._clock()
            stale = self._fetched_at is None or now - self._fetched_at >= self.max_age
            may_fetch = self._tried_at is None or now - self._tried_at >= self.min_refetch_interval
            if (stale or kid not in self._keys) and may_fetch:
                self._refresh(now)
            if self._fetched_at is None:
                raise JwksUnavailable(f"could not fetch {self.url}: {self._error}")
            key, error = self._keys.get(kid), self._error
        if key is None:
            why = f"; fetching it again failed: {error}" if error else ""
            raise AssertionRejected(f"signed with an unknown key (kid {kid!r} is not in {self.url}{why})")
        return key

    def _refresh(self, now: float) -> None:
        self._tried_at = now
        self.fetches += 1
        try:
            document = self._fetch(self.url)
            keys = {}
            for jwk in document["keys"]:
                # Only twofold's kind of key: Ed25519 signing keys.
                if (
                    jwk.get("kty") == "OKP"
                    and jwk.get("crv") == "Ed25519"
                    and jwk.get("alg", "EdDSA") == "EdDSA"
                    and jwk.get("use", "sig") == "sig"
                    and isinstance(jwk.get("kid"), str)
                ):
                    keys[jwk["kid"]] = jwt.PyJWK(dict(jwk), algorithm="EdDSA")
        except (httpx.HTTPError, ValueError, KeyError, TypeError, jwt.PyJWTError) as error:
            self._error = f"{type(error).__name__}: {error}"
            if self._fetched_at is not None and now - self._fetched_at >= self.max_age:
                # Do not go on trusting keys twofold may have withdrawn.
                self._keys, self._fetched_at = {}, None
            return
        self._keys, self._fetched_at, self._error = keys, now, None


_jwks_by_url: dict[str, Jwks] = {}
_jwks_lock = threading.Lock()


def _jwks_for(twofold_url: str) -> Jwks:
    with _jwks_lock:
        if twofold_url not in _jwks_by_url:
            _jwks_by_url[twofold_url] = Jwks(twofold_url)
        return _jwks_by_url[twofold_url]


def verify_assertion(
    token: str,
    *,
    twofold_url: str,
    tenant: str,
    user: str,
    allowed_amr: Iterable[str] = DEFAULT_AMR,
    leeway: float = 5.0,
    jwks: Jwks | None = None,
) -> dict[str, Any]:
    """Checks a twofold assertion and returns its claims, or raises `AssertionRejected`.

    `twofold_url` is twofold's public URL (its `TWOFOLD_PUBLIC_URL`, the assertion's `iss`; a
    trailing slash is ignored), `tenant` the tenant of your API key, `user` the user signing in.
    """
    if isinstance(allowed_amr, str):
        raise TypeError('allowed_amr is a set of methods, e.g. {"otp"}, not a string')
    allowed = frozenset(allowed_amr)
    twofold_url = twofold_url.rstrip("/")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.exceptions.PyJWTError as error:
        raise AssertionRejected(f"not a JWT: {error}") from None
    if header.get("alg") != "EdDSA":
        raise AssertionRejected(f"algorithm {header.get('alg')!r} refused: twofold signs with EdDSA")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise AssertionRejected("no kid in the header: it names twofold's signing key")
    key = (jwks or _jwks_for(twofold_url)).key(kid)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["EdDSA"],
            issuer=twofold_url,
            audience=tenant,
            subject=user,
            leeway=leeway,
            options={"require": ["iss", "aud", "sub", "exp", "iat", "amr"], "strict_aud": True},
        )
    except jwt.exceptions.InvalidSignatureError:
        raise AssertionRejected("bad signature") from None
    except jwt.exceptions.ExpiredSignatureError:
        raise AssertionRejected("expired (exp is past)") from None
    except jwt.exceptions.InvalidIssuerError:
        raise AssertionRejected(f"iss is not {twofold_url!r}: another issuer") from None
    except jwt.exceptions.InvalidAudienceError:
        raise AssertionRejected(f"aud is not the tenant {tenant!r}") from None
    except jwt.exceptions.InvalidSubjectError:
        raise AssertionRejected(f"sub is not the user {user!r}") from None
    except jwt.exceptions.MissingRequiredClaimError as error:
        raise AssertionRejected(f"no {error.claim} claim") from None
    except jwt.exceptions.PyJWTError as error:
        raise AssertionRejected(f"{type(error).__name__}: {error}") from None
    amr = claims["amr"]
    if not isinstance(amr, list) or not all(isinstance(method, str) for method in amr):
        raise AssertionRejected(f"amr is not a list of methods: {amr!r}")
    if not allowed.intersection(amr):
        raise AssertionRejected(f"amr {amr} has none of the methods allowed, {sorted(allowed)}")
    return claims
