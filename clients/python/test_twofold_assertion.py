"""Unit tests of twofold_assertion with keys made here (no server): run by journey.sh, or
`python -m unittest test_twofold_assertion` from this folder with the venv's Python."""

import base64
import json
import time
import unittest

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from twofold_assertion import AssertionRejected, Jwks, JwksUnavailable, verify_assertion

URL = "https://mfa.example.com"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class SigningKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = Ed25519PrivateKey.generate()
        raw = self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.jwk = {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid, "x": b64url(raw)}
        self.x = raw

    def sign(self, **overrides) -> str:
        now = int(time.time())
        claims = {
            "iss": URL,
            "sub": "alice",
            "aud": "default",
            "amr": ["otp"],
            "device_id": "d",
            "iat": now,
            "exp": now + 300,
            "jti": "j",
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.private, algorithm="EdDSA", headers={"kid": self.kid})


class FakeTwofold:
    """A JWKS endpoint and a clock under the test's control."""

    def __init__(self, *keys: SigningKey) -> None:
        self.keys = list(keys)
        self.now = 1000.0
        self.down = False

    def fetch(self, url: str):
        assert url == URL + "/.well-known/jwks.json", url
        if self.down:
            raise ValueError("connection refused")
        return {"keys": [k.jwk for k in self.keys]}

    def jwks(self) -> Jwks:
        return Jwks(URL + "/", fetch=self.fetch, clock=lambda: self.now)


class VerifyAssertion(unittest.TestCase):
    def setUp(self) -> None:
        self.key = SigningKey("k1")
        self.twofold = FakeTwofold(self.key)
        self.jwks = self.twofold.jwks()

    def check(self, token: str, **kwargs):
        args = {"twofold_url": URL, "tenant": "default", "user": "alice", "jwks": self.jwks}
        args.update(kwargs)
        return verify_assertion(token, **args)

    def refused(self, token: str, why: str, **kwargs) -> None:
        with self.assertRaises(AssertionRejected) as caught:
            self.check(token, **kwargs)
        self.assertIn(why, str(caught.exception))

    def test_a_good_assertion_gives_its_claims(self) -> None:
        claims = self.check(self.key.sign())
        self.assertEqual((claims["sub"], claims["aud"], claims["amr"]), ("alice", "default", ["otp"]))
        self.check(self.key.sign(), twofold_url=URL + "/")  # a trailing slash is ignored

    def test_another_tenant_user_or_issuer_is_refused(self) -> None:
        self.refused(self.key.sign(aud="other"), "aud is not the tenant 'default'")
        self.refused(self.key.sign(aud=["default", "other"]), "aud is not the tenant")
        self.refused(self.key.sign(sub="mallory"), "sub is not the user 'alice'")
        self.refused(self.key.sign(iss="https://mfa.example.co"), "iss is not")
        self.refused(self.key.sign(iss=URL + "/x"), "iss is not")

    def test_an_expired_assertion_is_refused_past_the_leeway(self) -> None:
        now = int(time.time())
        self.refused(self.key.sign(iat=now - 400, exp=now - 60), "expired")
        self.check(self.key.sign(iat=now - 300, exp=now - 2))  # within the 5 s of leeway
        self.refused(self.key.sign(exp=None), "no exp claim")
        self.refused(self.key.sign(iat=now + 120, exp=now + 400), "ImmatureSignatureError")

    def test_amr_must_hold_an_allowed_method(self) -> None:
        self.refused(self.key.sign(amr=["sms"]), "has none of the methods allowed", allowed_amr={"otp", "hwk"})
        self.check(self.key.sign(amr=["hwk", "otp"]), allowed_amr={"hwk"})
        self.refused(self.key.sign(amr="otp"), "not a list")
        self.refused(self.key.sign(amr=None), "no amr claim")
        with self.assertRaises(TypeError):
            self.check(self.key.sign(), allowed_amr="otp")

    def test_other_algorithms_and_forged_signatures_are_refused(self) -> None:
        claims = jwt.decode(self.key.sign(), options={"verify_signature": False})
        unsigned = jwt.encode(claims, None, algorithm="none", headers={"kid": "k1"})
        self.refused(unsigned, "algorithm 'none' refused")
        # The public key used as an HMAC secret: the classic confusion.
        hmac = jwt.encode(claims, self.key.x, algorithm="HS256", headers={"kid": "k1"})
        self.refused(hmac, "algorithm 'HS256' refused")
        forger = SigningKey("k1")  # same kid, another private key
        self.refused(forger.sign(), "bad signature")
        self.refused("not.a.jwt", "not a JWT")
        header = b64url(json.dumps({"alg": "EdDSA"}).encode())
        self.refused(header + "." + self.key.sign().split(".", 1)[1], "no kid")

    def test_an_unknown_kid_refetches_at_most_once_a_minute(self) -> None:
        self.check(self.key.sign())
        self.assertEqual(self.jwks.fetches, 1)
        self.twofold.now += 61
        rotated = SigningKey("k2")
        self.refused(rotated.sign(), "unknown key")  # not published yet: fetched, still unknown
        self.assertEqual(self.jwks.fetches, 2)
        self.twofold.keys.append(rotated)
        self.twofold.now += 30
        self.refused(rotated.sign(), "unknown key")  # 30 s later: not fetched again
        self.refused(SigningKey("forged").sign(), "unknown key")
        self.assertEqual(self.jwks.fetches, 2)
        self.twofold.now += 31
        self.check(rotated.sign())  # a minute after the last fetch: fetched, found
        self.check(self.key.sign())  # the old key still verifies while it is published
        self.assertEqual(self.jwks.fetches, 3)

    def test_old_keys_are_fetched_again_and_a_down_jwks_fails_closed(self) -> None:
        self.check(self.key.sign())
        self.twofold.now += 301
        self.twofold.keys = [SigningKey("k2")]  # k1 withdrawn
        self.refused(self.key.sign(), "unknown key")
        self.assertEqual(self.jwks.fetches, 2)
        fresh = FakeTwofold(self.key)
        fresh.down = True
        jwks = fresh.jwks()
        with self.assertRaises(JwksUnavailable):
            self.check(self.key.sign(), jwks=jwks)
        fresh.down = False
        with self.assertRaises(JwksUnavailable):  # not retried within the minute
            self.check(self.key.sign(), jwks=jwks)
        fresh.now += 60
        self.check(self.key.sign(), jwks=jwks)
        self.assertEqual(jwks.fetches, 2)


if __name__ == "__main__":
    unittest.main()
