// verifyAssertion against tokens made here and a JWKS served here (node:test; journey.sh runs it).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload } from "jose";
import { AssertionRejectedError, verifyAssertion, type AssertionRefusal } from "../src/index.js";

type Keys = Awaited<ReturnType<typeof generateKeyPair>>;
let server: Server;
let issuer: string;
let served: JWK[] = [];
let fetches = 0;
let key1: Keys;
let key2: Keys;
let other: Keys;
let run = 0;

before(async () => {
  key1 = await generateKeyPair("EdDSA");
  key2 = await generateKeyPair("EdDSA");
  other = await generateKeyPair("EdDSA");
  served = [{ ...(await exportJWK(key1.publicKey)), kid: "k1", alg: "EdDSA", use: "sig" }];
  server = createServer((req, res) => {
    if (req.url?.startsWith("/.well-known/jwks.json")) {
      fetches += 1;
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ keys: served }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Options for a fresh JWKS cache (each test its own URL), for user alice of tenant default. */
function options(extra: Partial<Parameters<typeof verifyAssertion>[1]> = {}) {
  run += 1;
  return { twofoldUrl: issuer, tenant: "default", user: "alice", jwksUrl: `${issuer}/.well-known/jwks.json?run=${run}`, ...extra };
}

async function token(claims: JWTPayload = {}, key: Keys["privateKey"] = key1.privateKey, kid = "k1"): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const defaults = { iss: issuer, sub: "alice", aud: "default", iat: now, exp: now + 300, amr: ["otp"], device_id: "d1" };
  return new SignJWT({ ...defaults, ...claims }).setProtectedHeader({ alg: "EdDSA", typ: "JWT", kid }).sign(key);
}

async function refused(jwt: string, reason: AssertionRefusal, opts = options()): Promise<void> {
  await assert.rejects(verifyAssertion(jwt, opts), (err: unknown) => {
    assert.ok(err instanceof AssertionRejectedError, `not an AssertionRejectedError: ${err}`);
    assert.equal(err.reason, reason, err.message);
    return true;
  });
}

function unsigned(header: object, payload: object): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${part(header)}.${part(payload)}.`;
}

test("a good assertion verifies and answers its claims", async () => {
  const claims = await verifyAssertion(await token(), options({ allowedAmr: ["otp"] }));
  assert.equal(claims.sub, "alice");
  assert.deepEqual(claims.amr, ["otp"]);
  assert.equal(claims.device_id, "d1");
});

test("the public URL may be given with a trailing slash", async () => {
  await verifyAssertion(await token(), options({ twofoldUrl: `${issuer}/` }));
});

test("another tenant, user or issuer is refused", async () => {
  await refused(await token({ aud: "other" }), "aud");
  await refused(await token({ sub: "bob" }), "sub");
  await refused(await token({ iss: "https://elsewhere.example" }), "iss");
  await refused(await token(), "aud", options({ tenant: "other" }));
});

test("an expired assertion is refused, within 5 s of skew it is not", async () => {
  const now = Math.floor(Date.now() / 1000);
  await refused(await token({ exp: now - 60 }), "exp");
  await verifyAssertion(await token({ exp: now - 2 }), options());
});

test("amr must hold an accepted method", async () => {
  await refused(await token({ amr: ["sms"] }), "amr", options({ allowedAmr: ["otp", "hwk"] }));
  await refused(await token({ amr: "otp" }), "amr");
  const noAmr = await new SignJWT({})
    .setProtectedHeader({ alg: "EdDSA", kid: "k1" })
    .setIssuer(issuer).setSubject("alice").setAudience("default").setExpirationTime("5m")
    .sign(key1.privateKey);
  await refused(noAmr, "amr");
});

test("alg none, HS256 and a signature by another key are refused", async () => {
  const now = Math.floor(Date.now() / 1000);
  const claims = { iss: issuer, sub: "alice", aud: "default", exp: now + 300, amr: ["otp"] };
  await refused(unsigned({ alg: "none", kid: "k1" }, claims), "algorithm");
  const hs = await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", kid: "k1" })
    .sign(new TextEncoder().encode("a shared secret of thirty-two bytes!"));
  await refused(hs, "algorithm");
  await refused(await token({}, other.privateKey, "k1"), "signature");
  await refused("not.a.jwt", "malformed");
});

test("an unknown kid fetches the JWKS again, at most once a minute", async () => {
  const opts = options();
  const start = fetches;
  await verifyAssertion(await token(), opts);
  assert.equal(fetches, start + 1, "the first check fetches the JWKS");
  await verifyAssertion(await token(), opts);
  assert.equal(fetches, start + 1, "the JWKS is cached");

  served = [...served, { ...(await exportJWK(key2.publicKey)), kid: "k2", alg: "EdDSA", use: "sig" }];
  const rotated = await token({}, key2.privateKey, "k2");
  await refused(rotated, "unknown_key", opts);
  assert.equal(fetches, start + 1, "no refetch within a minute of the last fetch");

  const realNow = Date.now;
  Date.now = () => realNow() + 61_000;
  try {
    await verifyAssertion(rotated, opts);
    assert.equal(fetches, start + 2, "a minute later, an unknown kid fetches the JWKS again");
    await refused(await token({}, other.privateKey, "k3"), "unknown_key", opts);
    assert.equal(fetches, start + 2, "and not again at once");
  } finally {
    Date.now = realNow;
  }
});

test("a JWKS that cannot be fetched is a refusal, not a pass", async () => {
  await refused(await token(), "jwks_unavailable", options({ jwksUrl: `${issuer}/nowhere` }));
});
