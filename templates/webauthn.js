// Security keys on twofold's hosted pages. The one script these pages load (CSP script-src
// 'self'): it asks twofold for the ceremony's options, runs navigator.credentials, and posts the
// answer with the page's form. Without it the pages still work with codes.
"use strict";
(function () {
  const form = document.getElementById("key-form");
  if (!form) return;
  const say = (text) => {
    const p = document.getElementById("key-error");
    p.textContent = text;
    p.hidden = false;
  };
  if (!window.PublicKeyCredential || !navigator.credentials) {
    const p = document.getElementById("key-unsupported");
    if (p) p.hidden = false;
    return;
  }
  form.hidden = false;

  const b64 = {
    decode(s) {
      const t = s.replace(/-/g, "+").replace(/_/g, "/");
      const bin = atob(t + "===".slice((t.length + 3) % 4));
      return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
    },
    encode(buf) {
      let bin = "";
      for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
      return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    },
  };
  // The options arrive as JSON with base64url for binary fields (WebAuthn Level 3).
  const decodeOptions = (pk) => {
    const o = Object.assign({}, pk, { challenge: b64.decode(pk.challenge) });
    if (pk.user) o.user = Object.assign({}, pk.user, { id: b64.decode(pk.user.id) });
    for (const k of ["excludeCredentials", "allowCredentials"]) {
      if (pk[k]) o[k] = pk[k].map((c) => Object.assign({}, c, { id: b64.decode(c.id) }));
    }
    return o;
  };
  // PublicKeyCredential.toJSON(), for browsers that lack it.
  const encodeCredential = (cred) => {
    if (typeof cred.toJSON === "function") return cred.toJSON();
    const r = cred.response;
    const response = { clientDataJSON: b64.encode(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = b64.encode(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = b64.encode(r.authenticatorData);
      response.signature = b64.encode(r.signature);
      if (r.userHandle) response.userHandle = b64.encode(r.userHandle);
    }
    return {
      id: cred.id,
      rawId: b64.encode(cred.rawId),
      type: cred.type,
      response,
      clientExtensionResults: cred.getClientExtensionResults(),
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
    };
  };

  form.addEventListener("submit", async (event) => {
    if (form.elements.credential.value) return;
    event.preventDefault();
    const button = form.querySelector("button");
    button.disabled = true;
    try {
      const res = await fetch(form.dataset.options, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrf: form.elements.csrf.value }),
      });
      // 403: a code of the user's other device is wanted first (or again): the page asks for it.
      if (res.status === 403) {
        window.location.reload();
        return;
      }
      if (!res.ok) throw new Error("options: " + res.status);
      const answer = await res.json();
      const publicKey = decodeOptions(answer.options.publicKey);
      const cred = form.dataset.ceremony === "create"
        ? await navigator.credentials.create({ publicKey })
        : await navigator.credentials.get({ publicKey });
      if (answer.device_id) form.elements.device.value = answer.device_id;
      form.elements.credential.value = JSON.stringify(encodeCredential(cred));
      form.submit();
    } catch (e) {
      // The browser's reason (a cancelled prompt, a refused option) is for the console only.
      console.error("security key:", e);
      button.disabled = false;
      say(form.dataset.failed);
    }
  });
})();
