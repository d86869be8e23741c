// How the accessibility pass brings a page into a state: links as the demo relying party makes
// them, users set up beforehand (an authenticator app, a security key, a lock), the console
// signed in. A state's recipe (e2e/states.mjs) is a few of these steps.
import { check, fresh, loading, stepNow, totp, virtualKey } from "./common.mjs";

// A code no app shows (one chance in a million per try, which a run can afford).
const WRONG = "000000";
// Wrong codes that lock a user (the default lockout threshold).
export const LOCK_AFTER = 10;

// The users several states share, each set up once, in a browser context of its own.
export class Shared {
  constructor(browser, env) {
    this.browser = browser;
    this.env = env;
    this.memo = new Map();
  }

  once(name, make) {
    if (!this.memo.has(name)) this.memo.set(name, make());
    return this.memo.get(name);
  }

  // Runs `act` on a page of a throwaway context (the page's own CSP applies there).
  async aside(act, options = {}) {
    const context = await this.browser.newContext(options);
    try {
      return await act(new Steps(await context.newPage(), this));
    } finally {
      await context.close();
    }
  }

  // A user with a confirmed authenticator app: { user, secret }. Fresh each call.
  newAppUser() {
    return this.aside((go) => go.enrollApp());
  }

  // One such user for the states that only look.
  appUser() {
    return this.once("app", () => this.newAppUser());
  }

  // A user with a security key for the hosted pages' RP ID (Chromium's virtual authenticator).
  keyUser() {
    return this.once("key", () => this.aside(async (go) => {
      await virtualKey(go.page.context(), go.page, true);
      const user = fresh();
      await go.enroll(user);
      await go.page.locator("#key-form").waitFor();
      await go.page.getByRole("button", { name: "Security key" }).click();
      await go.page.getByText("You're all set").waitFor();
      return user;
    }));
  }

  // A user with an app who got locked out.
  lockedUser() {
    return this.once("locked", async () => {
      const { user } = await this.newAppUser();
      await this.aside(async (go) => {
        await go.verify(user);
        await go.lockOut();
      });
      return user;
    });
  }
}

// The steps of a recipe, on the state's page.
export class Steps {
  constructor(page, shared) {
    this.page = page;
    this.shared = shared;
    this.env = shared.env;
  }

  // A link to a hosted page, as the demo relying party makes one: its /start answers with a 303
  // to the link (asked for without following it, so no browser opens it yet).
  async link(purpose, user) {
    const res = await this.page.context().request.post(`${this.env.rp}/start`, {
      form: { purpose, user }, maxRedirects: 0,
    });
    const url = res.headers().location;
    if (res.status() !== 303 || !url) {
      throw new Error(`a11y: the relying party made no ${purpose} link for ${user} (${res.status()})`);
    }
    return url;
  }

  // Opens a URL (twofold's path, or a whole URL) and waits for the page itself: the first
  // opening of a link is a refresh to the same address, which has no heading.
  async goto(url) {
    await this.page.goto(url.startsWith("/") ? `${this.env.twofold}${url}` : url);
    await this.page.locator("h1").first().waitFor();
    await this.page.waitForLoadState("load");
  }

  // A control that loads another page, used; back once that page has loaded.
  through(control) {
    return loading(this.page, () => control.click());
  }

  press(name) {
    return this.through(this.page.getByRole("button", { name, exact: typeof name === "string" }));
  }

  follow(name) {
    return this.through(this.page.getByRole("link", { name, exact: typeof name === "string" }));
  }

  fill(label, value) {
    return this.page.getByLabel(label, { exact: true }).fill(value);
  }

  async code(value) {
    await this.fill("Code", value);
    await this.press("Continue");
  }

  async wrongCodes(n) {
    for (let i = 0; i < n; i++) await this.code(WRONG);
  }

  // Wrong codes until locked: the attempt that locks answers with the lock, the form turned off.
  async lockOut() {
    await this.wrongCodes(LOCK_AFTER);
    check(await this.page.getByLabel("Code", { exact: true }).isDisabled(), "a11y: the locked page turns the code field off");
  }

  async enroll(user = fresh()) {
    await this.goto(await this.link("enroll", user));
    return user;
  }

  async verify(user) {
    await this.goto(await this.link("verify", user));
  }

  // Enrolls an authenticator app up to the "You're all set" page: { user, secret }.
  async enrollApp(user = fresh()) {
    await this.enroll(user);
    await this.press("Authenticator app");
    const secret = (await this.page.locator("#secret").textContent()).replace(/\s/g, "");
    await this.code(totp(secret, stepNow()));
    await this.page.getByText("You're all set").waitFor();
    return { user, secret };
  }

  // Opens a link in another browser, which claims it.
  elsewhere(url) {
    return this.shared.aside((go) => go.goto(url));
  }

  // The console, signed in with an admin key (scripts/e2e.sh makes ADMIN_KEY).
  async signIn(key = this.env.adminKey) {
    await this.goto("/admin/login");
    await this.fill("Admin API key", key);
    await this.press("Sign in");
  }

  consoleUser(user) {
    return this.goto(`/admin/user?tenant=default&user=${encodeURIComponent(user)}`);
  }
}

// A link whose token was altered: its MAC no longer matches.
export function tampered(url) {
  const at = url.lastIndexOf(".") + 1;
  return url.slice(0, at) + (url[at] === "A" ? "B" : "A") + url.slice(at + 1);
}

// The same link at the twofold instance whose clock runs past every link's expiry.
export function late(url, lateTwofold) {
  const u = new URL(url);
  return `${lateTwofold}${u.pathname}${u.search}`;
}
