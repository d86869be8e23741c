// twofold's TypeScript client: the generated types (schema.d.ts, from the OpenAPI document) under
// openapi-fetch, a typed error for twofold's `{error, message}` answers, and the check of an
// assertion. Hand-written; generate.sh rewrites schema.d.ts only.
import createClient, { mergeHeaders, type Client, type ClientOptions } from "openapi-fetch";
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from "jose";
import type { components, operations, paths } from "./schema.js";

export type { components, operations, paths };
/** The document's schemas: `Schemas["Verified"]`, `Schemas["ErrorBody"]`, … */
export type Schemas = components["schemas"];
/** openapi-fetch's client over twofold's paths: `tf.POST("/v1/users/{user}/verify", …)`. */
export type TwofoldClient = Client<paths>;

/**
 * The openapi-fetch client for the twofold at `baseUrl`, sending `Authorization: Bearer <apiKey>`
 * on every call. Calls answer `{ data, error, response }`: `error` is the typed `{error, message}`
 * body of a failure (`response.status` its status); `unwrap()` turns that into a `TwofoldError`.
 */
export function createTwofold(
  baseUrl: string,
  apiKey: string,
  options: Omit<ClientOptions, "baseUrl"> = {},
): TwofoldClient {
  const headers = mergeHeaders(options.headers, { Authorization: `Bearer ${apiKey}` });
  return createClient<paths>({ ...options, baseUrl, headers });
}

type ErrorBody = components["schemas"]["ErrorBody"];

/** A twofold failure: the HTTP status and the body's stable `error` code (docs/errors.md). */
export class TwofoldError extends Error {
  override readonly name = "TwofoldError";
  /** The HTTP status, e.g. 422. */
  readonly status: number;
  /** The body's `error`: what a program branches on, e.g. `invalid_code`, `user_locked`. */
  readonly code: string;
  /** The body's `message`, for humans. */
  readonly detail: string;
  /** Imports only: the bad lines. */
  readonly lines: ErrorBody["lines"];
  /** Seconds to wait, from `Retry-After` (every 429 has it). */
  readonly retryAfter: number | undefined;

  constructor(
    status: number,
    code: string,
    detail: string,
    extra: { lines?: ErrorBody["lines"]; retryAfter?: number | undefined } = {},
  ) {
    super(`${status} ${code}: ${detail}`);
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.lines = extra.lines ?? null;
    this.retryAfter = extra.retryAfter;
  }

  /** From a failed call's `response` and `error` (the parsed body, or its text if not JSON). */
  static from(response: Response, error: unknown): TwofoldError {
    const header = response.headers.get("Retry-After");
    const retryAfter = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
    if (isErrorBody(error)) {
      return new TwofoldError(response.status, error.error, error.message, {
        lines: error.lines,
        retryAfter,
      });
    }
    // Not twofold's JSON (a proxy's page, an empty body): keep what there is.
    const text = typeof error === "string" ? error.trim().slice(0, 200) : "";
    return new TwofoldError(
      response.status,
      "unexpected_response",
      text || response.statusText || "no body",
      { retryAfter },
    );
  }
}

function isErrorBody(value: unknown): value is ErrorBody {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { error?: unknown }).error === "string" &&
    typeof (value as { message?: unknown }).message === "string"
  );
}

type Answer = { data?: unknown; error?: unknown; response: Response };
type DataOf<T extends Answer> = [Exclude<T["data"], undefined>] extends [never]
  ? undefined
  : Exclude<T["data"], undefined>;

/**
 * The data of a successful call, or a thrown `TwofoldError`:
 * `const verified = await unwrap(tf.POST("/v1/users/{user}/verify", …))`.
 * A 204 gives `undefined`.
 */
export async function unwrap<T extends Answer>(call: Promise<T> | T): Promise<DataOf<T>> {
  const { data, error, response } = await call;
  if (!response.ok) throw TwofoldError.from(response, error);
  return data as DataOf<T>;
}

// ---------------------------------------------------------------------------------------------
// Assertions

/** The `amr` values of twofold's assertions: any of them by default (docs/assertions.md). */
export const DEFAULT_ALLOWED_AMR: readonly string[] = ["otp", "hwk", "swk", "sms", "recovery"];

export interface VerifyAssertionOptions {
  /** twofold's public URL (`TWOFOLD_PUBLIC_URL`): the `iss` required, and where the JWKS is. */
  twofoldUrl: string;
  /** Your tenant: the `aud` required (`default` unless your API key has another). */
  tenant: string;
  /** The user signing in: the `sub` required. */
  user: string;
  /** The methods you accept: `amr` must hold one of them. E.g. `["hwk"]` for a hardware factor. */
  allowedAmr?: readonly string[];
  /** Clock skew allowed on `exp`, in seconds (default 5). */
  clockToleranceSec?: number;
  /** Where to fetch the JWKS when twofold is reached by another address than its public URL. */
  jwksUrl?: string;
}

/** The claims of a checked assertion. */
export interface AssertionClaims extends JWTPayload {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  amr: string[];
  /** The device whose code it was (absent for a recovery code). */
  device_id?: string;
}

export type AssertionRefusal =
  | "malformed"
  | "algorithm"
  | "unknown_key"
  | "signature"
  | "iss"
  | "aud"
  | "sub"
  | "exp"
  | "amr"
  | "claims"
  | "jwks_unavailable";

/** An assertion that must not be trusted; `reason` says which check refused it. */
export class AssertionRejectedError extends Error {
  override readonly name = "AssertionRejectedError";
  readonly reason: AssertionRefusal;
  constructor(reason: AssertionRefusal, message: string, options?: { cause?: unknown }) {
    super(`assertion refused (${reason}): ${message}`, options);
    this.reason = reason;
  }
}

/** How long a JWKS is kept, and the least time between two fetches for an unknown `kid`. */
const JWKS_CACHE_MAX_AGE_MS = 10 * 60 * 1000;
const JWKS_REFETCH_COOLDOWN_MS = 60 * 1000;
const jwksByUrl = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function jwksFor(url: string): ReturnType<typeof createRemoteJWKSet> {
  let jwks = jwksByUrl.get(url);
  if (!jwks) {
    // jose fetches once, keeps the set JWKS_CACHE_MAX_AGE_MS, and on a `kid` it does not hold
    // fetches again unless it fetched within the cooldown.
    jwks = createRemoteJWKSet(new URL(url), {
      cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
      cooldownDuration: JWKS_REFETCH_COOLDOWN_MS,
      timeoutDuration: 5000,
    });
    jwksByUrl.set(url, jwks);
  }
  return jwks;
}

/**
 * Checks an assertion of twofold and answers its claims, or throws `AssertionRejectedError`:
 * an EdDSA signature by a key of twofold's JWKS (fetched and cached), `iss` = `twofoldUrl`,
 * `aud` = `tenant`, `sub` = `user`, `exp` in the future (5 s of skew), and `amr` holding one
 * of `allowedAmr`. Any other algorithm, `none` included, is refused.
 */
export async function verifyAssertion(
  token: string,
  options: VerifyAssertionOptions,
): Promise<AssertionClaims> {
  const issuer = options.twofoldUrl.replace(/\/+$/, "");
  const allowed = options.allowedAmr ?? DEFAULT_ALLOWED_AMR;
  const jwks = jwksFor(options.jwksUrl ?? `${issuer}/.well-known/jwks.json`);
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, jwks, {
      algorithms: ["EdDSA"],
      issuer,
      audience: options.tenant,
      subject: options.user,
      clockTolerance: options.clockToleranceSec ?? 5,
      requiredClaims: ["iss", "aud", "sub", "exp", "amr"],
    }));
  } catch (err) {
    throw refusal(err);
  }
  const amr = payload["amr"];
  if (!Array.isArray(amr) || !amr.every((m) => typeof m === "string")) {
    throw new AssertionRejectedError("amr", "`amr` is not a list of methods");
  }
  if (!amr.some((m) => allowed.includes(m))) {
    throw new AssertionRejectedError(
      "amr",
      `methods ${JSON.stringify(amr)} are none of the accepted ${JSON.stringify(allowed)}`,
    );
  }
  return payload as AssertionClaims;
}

const CLAIMS: readonly AssertionRefusal[] = ["iss", "aud", "sub", "exp", "amr"];

function refusal(err: unknown): AssertionRejectedError {
  const code = (err as { code?: unknown })?.code;
  const message = err instanceof Error ? err.message : String(err);
  const reason = ((): AssertionRefusal => {
    switch (code) {
      case "ERR_JWT_EXPIRED":
        return "exp";
      case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
        const claim = (err as { claim?: string }).claim as AssertionRefusal;
        return CLAIMS.includes(claim) ? claim : "claims";
      }
      case "ERR_JOSE_ALG_NOT_ALLOWED":
      case "ERR_JOSE_NOT_SUPPORTED":
        return "algorithm";
      case "ERR_JWKS_NO_MATCHING_KEY":
      case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
        return "unknown_key";
      case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
        return "signature";
      case "ERR_JWS_INVALID":
      case "ERR_JWT_INVALID":
        return "malformed";
      default:
        // The JWKS could not be fetched or read (network, status, JSON, timeout).
        return "jwks_unavailable";
    }
  })();
  return new AssertionRejectedError(reason, message, { cause: err });
}
