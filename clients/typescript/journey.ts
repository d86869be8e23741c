// The journey of a relying party's backend, written as an integrator would with this client:
// enroll an authenticator app for a new user, confirm it, verify the next code and check the
// assertion, a wrong code as the typed 422, a hosted-page link, and an admin's audit search and
// unlock. Run by journey.sh against the twofold at $TWOFOLD_URL; prints each check as it passes.
import { createHmac, randomBytes } from "node:crypto";
import {
  AssertionRejectedError,
  TwofoldError,
  createTwofold,
  unwrap,
  verifyAssertion,
  type AssertionRefusal,
} from "./src/index.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
const TWOFOLD_URL = env("TWOFOLD_URL").replace(/\/+$/, "");
const TENANT = "default";

let passed = 0;
function ok(what: string): void {
  passed += 1;
  console.log(`ok ${passed} - ${what}`);
}
function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`check failed: ${what}`);
  ok(what);
}

// RFC 4648 base32 (the secret of an authenticator app) and RFC 6238 TOTP, SHA1, 30 s steps.
function base32Decode(text: string): Buffer {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of text.replace(/[=\s]/g, "").toUpperCase()) {
    const index = alphabet.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(bytes);
}
function hotp(key: Buffer, counter: number, digits = 6): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac("sha1", key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}
const step = (): number => Math.floor(Date.now() / 1000 / 30);

async function refusedFor(token: string, reason: AssertionRefusal, options: Parameters<typeof verifyAssertion>[1]) {
  try {
    await verifyAssertion(token, options);
  } catch (err) {
    if (err instanceof AssertionRejectedError && err.reason === reason) return true;
    throw err;
  }
  return false;
}

async function main(): Promise<void> {
  // The TOTP of this journey against RFC 6238's own vector (T = 59 s, SHA1, 8 digits).
  const rfcKey = base32Decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  check(
    rfcKey.toString() === "12345678901234567890" && hotp(rfcKey, 1, 8) === "94287082",
    "the journey's TOTP gives RFC 6238's test vector",
  );

  const tf = createTwofold(TWOFOLD_URL, env("TWOFOLD_CLIENT_KEY"));
  const user = `ts-journey-${randomBytes(4).toString("hex")}@example.com`;
  const path = { user };

  // Journey 2: the user enrolls an authenticator app and types its first code.
  const enrolled = await unwrap(
    tf.POST("/v1/users/{user}/devices/totp", {
      params: { path },
      body: { account_name: user, label: "Phone" },
    }),
  );
  check(
    enrolled.device.kind === "totp" && enrolled.device.status === "pending" && enrolled.secret.length > 0,
    `enrolled a pending TOTP device for ${user}`,
  );
  check(enrolled.otpauth_uri.startsWith("otpauth://totp/"), "the enrollment carries an otpauth:// URI");
  const key = base32Decode(enrolled.secret);
  const now = step();
  const confirmed = await unwrap(
    tf.POST("/v1/users/{user}/devices/{id}/confirm", {
      params: { path: { user, id: enrolled.device.id } },
      body: { code: hotp(key, now) },
    }),
  );
  check(confirmed.device.status === "active", "confirmed with the current code: the device is active");
  const claims0 = await verifyAssertion(confirmed.assertion, { twofoldUrl: TWOFOLD_URL, tenant: TENANT, user });
  check(claims0.device_id === enrolled.device.id, "the confirm answer's assertion verifies, for that device");

  // Journey 1: a later login, with the app's next code (the confirming step is used up).
  const { data: verified, error, response } = await tf.POST("/v1/users/{user}/verify", {
    params: { path },
    body: { code: hotp(key, now + 1) },
  });
  if (error) throw TwofoldError.from(response, error);
  check(
    response.status === 200 && verified.verified && verified.method === "totp",
    "verified the next code (step + 1): 200, method totp",
  );

  const claims = await verifyAssertion(verified.assertion, {
    twofoldUrl: TWOFOLD_URL,
    tenant: TENANT,
    user,
    allowedAmr: ["otp"],
  });
  const nowSec = Date.now() / 1000;
  check(
    claims.iss === TWOFOLD_URL &&
      claims.aud === TENANT &&
      claims.sub === user &&
      claims.exp > nowSec &&
      claims.exp <= nowSec + 301 &&
      claims.amr.includes("otp"),
    `the assertion verifies against the JWKS: iss ${claims.iss}, aud ${TENANT}, sub, exp in ${Math.round(claims.exp - nowSec)} s, amr ${JSON.stringify(claims.amr)}`,
  );
  const base = { twofoldUrl: TWOFOLD_URL, tenant: TENANT, user };
  check(await refusedFor(verified.assertion, "aud", { ...base, tenant: "another" }), "the helper refuses it for another tenant (aud)");
  check(await refusedFor(verified.assertion, "sub", { ...base, user: "mallory" }), "the helper refuses it for another user (sub)");
  check(
    await refusedFor(verified.assertion, "iss", { ...base, twofoldUrl: "https://elsewhere.example", jwksUrl: `${TWOFOLD_URL}/.well-known/jwks.json` }),
    "the helper refuses it for another issuer (iss)",
  );
  check(
    await refusedFor(verified.assertion, "amr", { ...base, allowedAmr: ["hwk"] }),
    "the helper refuses it when only a hardware factor is accepted (amr)",
  );
  const [head, body, signature] = verified.assertion.split(".");
  const flipped = `${head}.${body}.${signature!.startsWith("A") ? "B" : "A"}${signature!.slice(1)}`;
  check(await refusedFor(flipped, "signature", base), "the helper refuses a tampered signature");

  // A wrong code: the typed 422, as openapi-fetch answers it and as unwrap() throws it.
  const valid = new Set([-1, 0, 1, 2].map((d) => hotp(key, step() + d)));
  const wrong = ["000000", "111111", "222222"].find((c) => !valid.has(c))!;
  const refused = await tf.POST("/v1/users/{user}/verify", { params: { path }, body: { code: wrong } });
  check(
    refused.data === undefined && refused.response.status === 422 && refused.error?.error === "invalid_code",
    `a wrong code: 422 {"error":"invalid_code"} (${refused.error?.message})`,
  );
  try {
    await unwrap(tf.POST("/v1/users/{user}/verify", { params: { path }, body: { code: hotp(key, now + 1) } }));
    throw new Error("a replayed code was accepted");
  } catch (err) {
    check(
      err instanceof TwofoldError && err.status === 422 && err.code === "invalid_code",
      `the same code again: unwrap() throws TwofoldError ${err instanceof Error ? err.message : err}`,
    );
  }

  // A hosted page instead of one's own screens.
  const link = await unwrap(
    tf.POST("/v1/users/{user}/links", {
      params: { path },
      body: { purpose: "verify", return_url: "https://shop.example/mfa/done", state: "k3y" },
    }),
  );
  check(
    link.url.startsWith(`${TWOFOLD_URL}/`) && Date.parse(link.expires_at) > Date.now(),
    `a hosted verify link: ${link.url.slice(0, TWOFOLD_URL.length + 8)}…, expires ${link.expires_at}`,
  );
  try {
    await unwrap(
      tf.POST("/v1/users/{user}/links", {
        params: { path },
        body: { purpose: "verify", return_url: "https://evil.example/" },
      }),
    );
    throw new Error("a link to another site was made");
  } catch (err) {
    check(
      err instanceof TwofoldError && err.status === 400 && err.code === "return_url_not_allowed",
      "a return URL outside the key's prefix: 400 return_url_not_allowed",
    );
  }

  // Journey 3, an admin: the audit trail and the unlock.
  const admin = createTwofold(TWOFOLD_URL, env("TWOFOLD_ADMIN_KEY"));
  // Verify outcomes reach the trail through a batch writer, within half a second (docs/admin.md).
  const searchAudit = () => unwrap(admin.GET("/v1/admin/audit", { params: { query: { user, limit: 50 } } }));
  let audit = await searchAudit();
  for (let i = 0; i < 30 && !audit.events.some((e) => e.action === "verify_failed"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    audit = await searchAudit();
  }
  const actions = audit.events.map((e) => e.action);
  check(
    audit.events.length > 0 && audit.events.every((e) => e.user === user && e.tenant === TENANT),
    `audit_search for the user: ${audit.events.length} events, newest first (${actions.join(", ")})`,
  );
  check(
    ["device_enrolled", "device_confirmed", "verify_succeeded", "verify_failed"].every((a) => actions.includes(a)),
    "the trail holds the enrollment, the confirmation, the verify and the wrong code",
  );
  const before = await unwrap(admin.GET("/v1/admin/users/{user}", { params: { path } }));
  const unlocked = await admin.POST("/v1/admin/users/{user}/unlock", { params: { path } });
  check(unlocked.response.status === 204 && unlocked.error === undefined, "users_unlock: 204");
  const after = await unwrap(admin.GET("/v1/admin/users/{user}", { params: { path } }));
  check(
    before.lock.failures > 0 && after.lock.failures === 0,
    `the unlock cleared the failures (${before.lock.failures} → ${after.lock.failures})`,
  );
  try {
    await unwrap(tf.GET("/v1/admin/audit", { params: { query: { user } } }));
    throw new Error("a client key read the audit trail");
  } catch (err) {
    check(err instanceof TwofoldError && err.status === 403 && err.code === "forbidden", "a client key on an admin route: 403 forbidden");
  }

  console.log(`journey: ${passed} passed, 0 failed`);
}

main().catch((err: unknown) => {
  console.error(`not ok ${passed + 1} - ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  console.log(`journey: ${passed} passed, 1 failed`);
  process.exitCode = 1;
});
