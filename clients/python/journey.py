"""An integrator's journey with the generated client (twofold_client) and twofold_assertion,
against the twofold at $TWOFOLD_URL, with $TWOFOLD_CLIENT_KEY (a relying party of tenant
`default`, return URLs under https://shop.example/) and $TWOFOLD_ADMIN_KEY. Prints each check as
it passes; exits 1 at the first that fails. Run by journey.sh."""

import base64
import hashlib
import hmac
import os
import secrets
import struct
import sys
import time
from http import HTTPStatus

from twofold_assertion import AssertionRejected, verify_assertion
from twofold_client import AuthenticatedClient
from twofold_client.api.admin import audit_search, devices_import, users_unlock
from twofold_client.api.devices import devices_confirm, devices_enroll_totp, devices_qr_png
from twofold_client.api.pages import links_create
from twofold_client.api.verify import codes_verify
from twofold_client.models import (
    AuditPage,
    Confirmed,
    ConfirmRequest,
    DeviceStatus,
    Enrolled,
    EnrollTotp,
    ErrorBody,
    Imported,
    Link,
    LinkRequest,
    Method,
    Purpose,
    Verified,
    VerifyRequest,
)
from twofold_client.types import File

PASSED = 0


def check(condition: bool, what: str, detail: object = "") -> None:
    global PASSED
    if not condition:
        print(f"FAIL: {what}" + (f"\n      got: {detail}" if detail != "" else ""), flush=True)
        print(f"python journey: {PASSED} passed, 1 failed", flush=True)
        sys.exit(1)
    PASSED += 1
    print(f"ok {PASSED:2} - {what}", flush=True)


def totp(secret_b32: str, step: int, digits: int = 6) -> str:
    """RFC 6238 (HOTP of the time step, RFC 4226), HMAC-SHA1: what an authenticator app shows."""
    key = base64.b32decode(secret_b32.upper() + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{number:0{digits}d}"


def refused(token: str, **kwargs) -> str:
    try:
        verify_assertion(token, **kwargs)
    except AssertionRejected as error:
        return str(error)
    return ""


def main() -> None:
    url = os.environ["TWOFOLD_URL"].rstrip("/")
    rp = AuthenticatedClient(base_url=url, token=os.environ["TWOFOLD_CLIENT_KEY"], raise_on_unexpected_status=True)
    admin = AuthenticatedClient(base_url=url, token=os.environ["TWOFOLD_ADMIN_KEY"], raise_on_unexpected_status=True)
    user = f"py-journey-{secrets.token_hex(4)}"
    print(f"python journey: user {user} at {url}", flush=True)

    # RFC 6238's own test vector (SHA1, T = 59 s): the code below computes what apps show.
    rfc_secret = base64.b32encode(b"12345678901234567890").decode()
    check(totp(rfc_secret, 59 // 30, 8) == "94287082", "TOTP (RFC 6238 test vector) computed with hmac")

    # Journey 2: the user enrolls an authenticator app.
    enroll = devices_enroll_totp.sync_detailed(user, client=rp, body=EnrollTotp(account_name=f"{user}@shop.example"))
    check(
        enroll.status_code == HTTPStatus.CREATED and isinstance(enroll.parsed, Enrolled),
        "devices_enroll_totp: 201 Enrolled",
        enroll.content,
    )
    enrolled = enroll.parsed
    device = enrolled.device
    check(
        device.status == DeviceStatus.PENDING and enrolled.otpauth_uri.startswith("otpauth://totp/"),
        f"the device {device.id} is pending, with its secret and otpauth URI",
    )
    qr = devices_qr_png.sync_detailed(user, device.id, client=rp)
    check(
        qr.status_code == HTTPStatus.OK
        and isinstance(qr.parsed, File)
        and qr.parsed.payload.read(8) == b"\x89PNG\r\n\x1a\n",
        "devices_qr_png: the QR code to scan, a PNG",
        qr.content[:40],
    )

    step = int(time.time()) // 30
    confirm = devices_confirm.sync_detailed(
        user, device.id, client=rp, body=ConfirmRequest(code=totp(enrolled.secret, step))
    )
    check(
        confirm.status_code == HTTPStatus.OK
        and isinstance(confirm.parsed, Confirmed)
        and confirm.parsed.device.status == DeviceStatus.ACTIVE,
        "devices_confirm with the current code: 200, the device is active",
        confirm.content,
    )

    # Journey 1: a login asks for the second factor; the confirming code is used up, so the next.
    answer = codes_verify.sync_detailed(user, client=rp, body=VerifyRequest(code=totp(enrolled.secret, step + 1)))
    check(
        answer.status_code == HTTPStatus.OK
        and isinstance(answer.parsed, Verified)
        and answer.parsed.verified
        and answer.parsed.method == Method.TOTP,
        "codes_verify with the next code: 200 verified, method totp",
        answer.content,
    )
    assertion = answer.parsed.assertion
    try:
        claims = verify_assertion(assertion, twofold_url=url, tenant="default", user=user, allowed_amr={"otp"})
    except AssertionRejected as error:
        check(False, "the assertion verifies with twofold_assertion", error)
    now = time.time()
    check(
        claims["iss"] == url and claims["aud"] == "default" and claims["sub"] == user and "otp" in claims["amr"],
        f"verify_assertion: EdDSA signature against the JWKS; iss {claims['iss']}, aud default, sub {user}, "
        f"amr {claims['amr']}",
    )
    check(
        now < claims["exp"] <= now + 300 + 5 and claims.get("device_id") == device.id,
        f"the assertion expires in {claims['exp'] - int(now)} s (at most 300) and names the device",
        claims,
    )
    for why, kwargs in [
        ("another tenant", {"tenant": "other", "user": user}),
        ("another user", {"tenant": "default", "user": user + "-x"}),
        ("a method not allowed (hwk only)", {"tenant": "default", "user": user, "allowed_amr": {"hwk"}}),
    ]:
        reason = refused(assertion, twofold_url=url, **kwargs)
        check(reason != "", f"the same assertion is refused for {why}: {reason}")
    tampered = assertion[:-4] + ("AAAA" if not assertion.endswith("AAAA") else "BBBB")
    reason = refused(tampered, twofold_url=url, tenant="default", user=user)
    check(reason != "", f"a tampered signature is refused: {reason}")

    # A wrong code: the typed 422 answer.
    valid = {totp(enrolled.secret, s) for s in range(step - 3, step + 5)}
    wrong = next(c for c in (f"{n:06d}" for n in range(123456, 999999, 7919)) if c not in valid)
    bad = codes_verify.sync_detailed(user, client=rp, body=VerifyRequest(code=wrong))
    check(
        bad.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
        and isinstance(bad.parsed, ErrorBody)
        and bad.parsed.error == "invalid_code",
        f"codes_verify with a wrong code: 422 ErrorBody(error='invalid_code', message={bad.parsed.message!r})"
        if isinstance(bad.parsed, ErrorBody)
        else "codes_verify with a wrong code: 422 ErrorBody",
        bad.content,
    )

    # A hosted page instead of the relying party's own screens.
    link = links_create.sync_detailed(
        user,
        client=rp,
        body=LinkRequest(purpose=Purpose.VERIFY, return_url="https://shop.example/mfa/done", state="k3y"),
    )
    check(
        link.status_code == HTTPStatus.CREATED
        and isinstance(link.parsed, Link)
        and link.parsed.url.startswith(f"{url}/verify/"),
        f"links_create (verify, back to https://shop.example/mfa/done): 201 {link.parsed.url[:48] if isinstance(link.parsed, Link) else ''}…",
        link.content,
    )
    elsewhere = links_create.sync_detailed(
        user, client=rp, body=LinkRequest(purpose=Purpose.VERIFY, return_url="https://evil.example/")
    )
    check(
        elsewhere.status_code == HTTPStatus.BAD_REQUEST
        and isinstance(elsewhere.parsed, ErrorBody)
        and elsewhere.parsed.error == "return_url_not_allowed",
        "links_create back to another site: 400 return_url_not_allowed",
        elsewhere.content,
    )

    # Journey 3, the admin's calls.
    forbidden = users_unlock.sync_detailed(user, client=rp)
    check(
        forbidden.status_code == HTTPStatus.FORBIDDEN
        and isinstance(forbidden.parsed, ErrorBody)
        and forbidden.parsed.error == "forbidden",
        "users_unlock with the client key: 403 forbidden",
        forbidden.content,
    )
    # Verify outcomes reach the trail through a batch writer, within about a second.
    expected = {"device_enrolled", "device_confirmed", "verify_succeeded", "verify_failed"}
    deadline = time.monotonic() + 10
    while True:
        audit = audit_search.sync_detailed(client=admin, user=user, limit=50)
        actions = {e.action for e in audit.parsed.events} if isinstance(audit.parsed, AuditPage) else set()
        if expected <= actions or audit.status_code != HTTPStatus.OK or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    check(
        audit.status_code == HTTPStatus.OK
        and expected <= actions
        and all(event.user == user for event in audit.parsed.events),
        "audit_search for the user: 200, newest first: "
        + (
            ", ".join(f"{e.action}/{e.outcome}" for e in audit.parsed.events)
            if isinstance(audit.parsed, AuditPage)
            else ""
        ),
        audit.content,
    )
    unlock = users_unlock.sync_detailed(user, client=admin)
    check(unlock.status_code == HTTPStatus.NO_CONTENT, "users_unlock with the admin key: 204", unlock.content)

    # An NDJSON import (a request body the generator maps through content_type_overrides), then a
    # code of the imported secret.
    imported_user = user + "-imported"
    secret = base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
    line = (
        f'{{"tenant":"default","user":"{imported_user}","label":"Imported","secret":"{secret}",'
        '"algorithm":"SHA1","digits":6,"period":30}\n'
    )
    imported = devices_import.sync_detailed(client=admin, body=line)
    check(
        imported.status_code == HTTPStatus.CREATED
        and isinstance(imported.parsed, Imported)
        and imported.parsed.imported == 1,
        "devices_import with an NDJSON line (str body): 201, 1 device imported",
        imported.content,
    )
    again = codes_verify.sync_detailed(
        imported_user, client=rp, body=VerifyRequest(code=totp(secret, int(time.time()) // 30))
    )
    check(
        again.status_code == HTTPStatus.OK
        and isinstance(again.parsed, Verified)
        and verify_assertion(again.parsed.assertion, twofold_url=url, tenant="default", user=imported_user)["sub"]
        == imported_user,
        "codes_verify with the imported secret's code: 200, its assertion verifies",
        again.content,
    )

    print(f"python journey: {PASSED} passed, 0 failed", flush=True)


if __name__ == "__main__":
    main()
