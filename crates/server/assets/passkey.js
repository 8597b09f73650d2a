// Passkeys on the hosted pages (issue 17). Every page works without this
// script; it adds what needs WebAuthn: the passkey button and autofill on
// the sign-in page, the passkey button of the second step, and adding a
// passkey on the account page. Each ceremony's options come from the JSON
// API of this server; its answer is posted with the page's own form (and
// its CSRF token), so the server sets the session cookie as for a password.
"use strict";
(() => {
  const pkc = window.PublicKeyCredential;
  if (!pkc || !pkc.parseRequestOptionsFromJSON || !pkc.parseCreationOptionsFromJSON) {
    return;
  }

  async function postJson(url, body, form) {
    const headers = { "Content-Type": "application/json", Accept: "application/json" };
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers,
      body: JSON.stringify(body),
    });
    const json = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(json.message || String(response.status));
    }
    return json;
  }

  function fail(form, error) {
    if (error && error.name === "AbortError") return;
    const alert = form.querySelector("#passkey-error");
    if (alert) {
      alert.textContent = form.dataset.failed || String(error);
      alert.hidden = false;
    }
  }

  function submit(form, fields) {
    for (const [name, value] of Object.entries(fields)) {
      form.elements[name].value = value;
    }
    form.submit();
  }

  // The sign-in page: a button, and the browser's autofill (conditional
  // mediation), begun when the identifier field first gets the focus.
  const signIn = document.getElementById("passkey-sign-in");
  if (signIn) {
    let pending = null;
    const run = async (conditional) => {
      if (pending) pending.abort();
      pending = new AbortController();
      const begun = await postJson("/api/auth/passkey/options", {});
      const publicKey = pkc.parseRequestOptionsFromJSON(begun.options.publicKey);
      const request = { publicKey, signal: pending.signal };
      if (conditional) request.mediation = "conditional";
      const credential = await navigator.credentials.get(request);
      submit(signIn, {
        ceremony_token: begun.ceremony_token,
        credential: JSON.stringify(credential.toJSON()),
      });
    };
    const button = document.getElementById("passkey-button");
    button.hidden = false;
    button.addEventListener("click", () => run(false).catch((e) => fail(signIn, e)));
    const identifier = document.getElementById("identifier");
    if (identifier && pkc.isConditionalMediationAvailable) {
      identifier.addEventListener(
        "focus",
        () => {
          pkc.isConditionalMediationAvailable().then((ok) => {
            if (ok) run(true).catch(() => {});
          });
        },
        { once: true },
      );
    }
  }

  // The second step of a sign-in: the account's passkeys.
  const secondFactor = document.getElementById("second-factor");
  if (secondFactor && secondFactor.elements.credential) {
    const button = document.getElementById("passkey-button");
    button.hidden = false;
    button.addEventListener("click", async () => {
      try {
        const begun = await postJson("/api/auth/mfa/passkey/options", {
          mfa_token: secondFactor.elements.mfa_token.value,
        });
        const publicKey = pkc.parseRequestOptionsFromJSON(begun.options.publicKey);
        const credential = await navigator.credentials.get({ publicKey });
        submit(secondFactor, { credential: JSON.stringify(credential.toJSON()) });
      } catch (e) {
        fail(secondFactor, e);
      }
    });
  }

  // The account page: add a passkey.
  const add = document.getElementById("passkey-add");
  if (add) {
    add.hidden = false;
    document.getElementById("passkey-button").addEventListener("click", async () => {
      try {
        const form = new URLSearchParams({ csrf: add.elements.csrf.value });
        const response = await fetch("/ui/account/passkeys/options", {
          method: "POST",
          credentials: "same-origin",
          headers: { Accept: "application/json" },
          body: form,
        });
        const begun = await response.json().catch(() => ({}));
        if (response.status === 403 && begun.code === "reauthentication_required") {
          window.location.assign("/ui/sign-in?reauthenticate=1&return_to=%2Fui%2Faccount");
          return;
        }
        if (!response.ok) throw new Error(begun.message || String(response.status));
        const publicKey = pkc.parseCreationOptionsFromJSON(begun.options.publicKey);
        const credential = await navigator.credentials.create({ publicKey });
        submit(add, {
          ceremony_token: begun.ceremony_token,
          credential: JSON.stringify(credential.toJSON()),
        });
      } catch (e) {
        fail(add, e);
      }
    });
  }
})();
