// The accessibility checks (issue 20), in the browser of the journeys: axe-core on every page
// state of the hosted pages and the console (e2e/states.mjs), at a phone's width and a
// desktop's; at the phone's, no page wider than the screen; and a keyboard-only journey through
// enroll and verify (e2e/keyboard.mjs). Every finding is listed (state, width, what), then the
// run fails; with A11Y_REPORT_ONLY=1 the findings are listed and the run goes on. A state that
// cannot be reached or checked fails the run either way.
// Env: RP_URL, TWOFOLD_URL; TWOFOLD_LATE_URL (a twofold whose clock runs past every link's
// expiry, for the expired-link page); ADMIN_KEY (an admin key, for the console) and OWN_KEY (an
// admin key named e2e-own, which revokes itself); a client key named e2e-spare is revoked.
import { createRequire } from "node:module";
import { keyboardJourney } from "./keyboard.mjs";
import { Shared, Steps } from "./reach.mjs";
import { states } from "./states.mjs";

const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const PHONE = 375;
const WIDTHS = [PHONE, 1280];
const HEIGHT = 800;
const reportOnly = process.env.A11Y_REPORT_ONLY === "1";

// axe-core's violations on the page as it stands: one finding per rule, with the elements.
async function axeFindings(page, state, width) {
  if (!(await page.evaluate(() => typeof window.axe === "object"))) {
    await page.addScriptTag({ path: AXE });
  }
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  return violations.map((v) => ({
    state, width,
    what: `axe ${v.id} (${v.impact}): ${v.help}`,
    more: [v.helpUrl, ...v.nodes.map((n) => `at ${n.target.map((t) => [t].flat().join(" >> ")).join(" >> ")}`)],
  }));
}

// Whether the page is wider than the window, and if so the elements that stick out: the
// outermost ones (their parent fits), widest first, that no scrolling box of theirs clips.
async function overflowFindings(page, state, width) {
  const wide = await page.evaluate(() => {
    const view = window.innerWidth;
    const page = document.documentElement.scrollWidth;
    if (page <= view) return null;
    const sticksOut = (el) => el.getBoundingClientRect().right > view + 0.5;
    const clipped = (el) => {
      for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
        if (getComputedStyle(a).overflowX !== "visible") return true;
      }
      return false;
    };
    // (A table is told apart by its caption.)
    const name = (el) => el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "")
      + [...el.classList].map((c) => `.${c}`).join("")
      + (el.caption ? ` "${el.caption.textContent.trim()}"` : "");
    const path = (el) => [el.parentElement?.parentElement, el.parentElement, el]
      .filter((e) => e && e !== document.documentElement).map(name).join(" > ");
    const culprits = [...document.body.querySelectorAll("*")]
      .filter((el) => sticksOut(el) && !(el.parentElement && sticksOut(el.parentElement)) && !clipped(el))
      .map((el) => ({ el, box: el.getBoundingClientRect() }))
      .sort((a, b) => b.box.width - a.box.width)
      .slice(0, 5)
      .map(({ el, box }) => `${path(el)}: ${Math.round(box.width)} px wide, right edge at ${Math.round(box.right)} px`);
    return { view, page, culprits };
  });
  if (!wide) return [];
  return [{
    state, width,
    what: `overflow: the page is ${wide.page} px wide in a ${wide.view} px window`,
    more: wide.culprits.length ? wide.culprits : ["(no single element sticks out: margins or positioning)"],
  }];
}

// What the page says it is (a reader of the log sees that each recipe reached its state):
// its heading and any alert or status.
function gist(page) {
  return page.evaluate(() => {
    const text = (el) => `"${el.textContent.replace(/\s+/g, " ").trim().slice(0, 90)}"`;
    const said = [...document.querySelectorAll("h1, [role=alert]:not([hidden]), [role=status]")].map(text);
    // (A link's token cut short.)
    return `${location.pathname.replace(/([^/]{12})[^/]{20,}/, "$1…")}: ${said.join(", ")}`;
  });
}

function print(f) {
  console.log(`a11y: ${reportOnly ? "REPORT" : "FAIL"}: [${f.state}] at ${f.width} px: ${f.what}`);
  for (const line of f.more) console.log(`        ${line}`);
}

// Each state on a fresh page, checked at every width (the page is resized, not reloaded).
async function checkStates(browser, shared) {
  const findings = [];
  const unchecked = [];
  for (const [state, reach] of states) {
    // The hosted pages' and the console's CSP let no script in but twofold's own: the axe pass
    // alone runs with Playwright's bypassCSP, so that axe can be added to the page (the journeys
    // and the keyboard journey keep the CSP, and the journeys check it).
    const context = await browser.newContext({ viewport: { width: PHONE, height: HEIGHT }, bypassCSP: true });
    const page = await context.newPage();
    try {
      await reach(new Steps(page, shared));
      await page.waitForLoadState("load");
      console.log(`a11y: [${state}] is ${await gist(page)}`);
      for (const width of WIDTHS) {
        await page.setViewportSize({ width, height: HEIGHT });
        const found = await axeFindings(page, state, width);
        if (width === PHONE) found.push(...(await overflowFindings(page, state, width)));
        console.log(found.length
          ? `a11y: [${state}] at ${width} px: ${found.length} finding(s), listed at the end`
          : `e2e: ok: a11y: [${state}] at ${width} px: no axe violation${width === PHONE ? ", no overflow" : ""}`);
        findings.push(...found);
      }
    } catch (e) {
      console.log(`a11y: FAIL: [${state}] not checked: ${e.message.split("\n")[0]} (at ${page.url().replace(/([^/]{12})[^/]{20,}/, "$1…")})`);
      unchecked.push(state);
    } finally {
      await context.close();
    }
  }
  return { findings, unchecked };
}

export async function accessibility(browser) {
  const need = (name) => {
    if (!process.env[name]) throw new Error(`a11y: no ${name} in the environment`);
    return process.env[name];
  };
  const env = {
    rp: need("RP_URL"),
    twofold: need("TWOFOLD_URL"),
    lateTwofold: need("TWOFOLD_LATE_URL"),
    adminKey: need("ADMIN_KEY"),
    ownKey: need("OWN_KEY"),
  };
  const shared = new Shared(browser, env);
  const { findings, unchecked } = await checkStates(browser, shared);
  findings.push(...(await keyboardJourney(browser, env)));

  findings.forEach(print);
  const affected = new Set(findings.map((f) => f.state));
  console.log(`a11y: ${states.length} page states at ${WIDTHS.join(" and ")} px and the keyboard journey: `
              + `${findings.length} finding(s) in ${affected.size} state(s), ${unchecked.length} state(s) not checked`);
  if (unchecked.length) throw new Error(`a11y: states not checked: ${unchecked.join(", ")}`);
  if (findings.length && !reportOnly) {
    throw new Error(`a11y: ${findings.length} accessibility finding(s), listed above (A11Y_REPORT_ONLY=1 lists without failing)`);
  }
}
