// edgegate chat widget. Embed with one tag:
//   <script src="https://GATEWAY/widget.js" data-key="pk-eg-..." async></script>
// Plain browser JavaScript with no dependencies; the gateway serves this file as is.
// Everything that matters (system prompt, model, limits) is decided on the server:
// this script sends only the conversation, and the gateway's signature of its latest answer.
(() => {
  "use strict";
  const script = document.currentScript;
  const key = script && script.dataset.key;
  if (!key) {
    console.error("edgegate widget: add data-key=\"pk-eg-...\" to the <script> tag.");
    return;
  }
  const base = new URL(script.src).origin;
  const endpoint = (path) => `${base}/v1/widget/${path}?key=${encodeURIComponent(key)}`;
  const storageKey = `edgegate:${key.slice(0, 14)}`;

  // ---- session memory: the conversation and an anonymous session id, for this tab's session only
  const store = {
    read(name, fallback) {
      try {
        const value = sessionStorage.getItem(`${storageKey}:${name}`);
        return value === null ? fallback : JSON.parse(value);
      } catch {
        return fallback;
      }
    },
    write(name, value) {
      try {
        sessionStorage.setItem(`${storageKey}:${name}`, JSON.stringify(value));
      } catch {
        // Storage full or disabled: the conversation still works, it is just not remembered.
      }
    },
  };
  // The visitor session is issued (and signed) by the gateway; it is renewed when it expires.
  let session = store.read("session", null);
  let conversation = store.read("conversation", []);
  if (!Array.isArray(conversation)) conversation = [];

  // ---- the widget's DOM, in a shadow root so the host page's styles cannot reach it
  const host = document.createElement("div");
  host.setAttribute("data-edgegate-widget", "");
  const root = host.attachShadow({ mode: "open" });
  const css = `
:host { all: initial; position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; font: 15px/1.45 system-ui, sans-serif; color: #1b1b1f; }
* { box-sizing: border-box; font: inherit; }
.launcher { border: 0; border-radius: 28px; padding: 12px 20px; background: #3b4cca; color: #fff; cursor: pointer; box-shadow: 0 4px 14px #0003; }
.panel { display: flex; flex-direction: column; width: min(380px, calc(100vw - 40px)); height: min(560px, calc(100vh - 100px)); margin-bottom: 12px; background: #fff; border: 1px solid #ccd; border-radius: 14px; box-shadow: 0 8px 30px #0003; overflow: hidden; }
.panel[hidden] { display: none; }
header { display: flex; align-items: center; gap: 8px; padding: 10px 14px; background: #3b4cca; color: #fff; }
header h2 { flex: 1; margin: 0; font-weight: 600; }
header button { border: 0; background: transparent; color: inherit; cursor: pointer; padding: 4px 8px; border-radius: 6px; }
.log { flex: 1; overflow-y: auto; padding: 12px; display: flex; flex-direction: column; gap: 8px; }
.msg { max-width: 85%; padding: 8px 12px; border-radius: 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
.user { align-self: flex-end; background: #3b4cca; color: #fff; }
.assistant { align-self: flex-start; background: #eef0f7; }
.assistant[aria-busy="true"]::after { content: "▍"; animation: blink 1s steps(2) infinite; }
@keyframes blink { 50% { opacity: 0; } }
.status { padding: 0 14px; color: #a31621; min-height: 0; }
.status:not(:empty) { padding: 8px 14px; background: #fdecee; }
form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e3e5ee; }
textarea { flex: 1; resize: none; height: 44px; padding: 10px; border: 1px solid #bbc; border-radius: 10px; font-size: 16px; }
form button { border: 0; border-radius: 10px; padding: 0 14px; background: #3b4cca; color: #fff; cursor: pointer; }
form button.stop { background: #a31621; }
button:focus-visible, textarea:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
button[hidden] { display: none; }
.rate { align-self: flex-start; display: flex; gap: 4px; margin-top: -4px; }
.rate button { border: 1px solid #ccd; background: #fff; border-radius: 8px; padding: 1px 8px; cursor: pointer; font-size: 13px; color: #44475a; }
.rate button[aria-pressed="true"] { background: #3b4cca; border-color: #3b4cca; color: #fff; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }`;
  root.innerHTML = `
<section class="panel" id="panel" role="dialog" aria-labelledby="title" hidden>
  <header>
    <h2 id="title">Chat</h2>
    <button type="button" class="clear" aria-label="Start a new conversation">New</button>
    <button type="button" class="close" aria-label="Close chat">✕</button>
  </header>
  <div class="log" role="log" aria-live="polite" aria-label="Conversation"></div>
  <slot name="challenge"></slot>
  <div class="status" role="status" aria-live="polite"></div>
  <form>
    <label class="sr-only" for="input">Message</label>
    <textarea id="input" rows="1" placeholder="Type a message…" autocomplete="off"></textarea>
    <button type="submit" class="send">Send</button>
    <button type="button" class="stop" hidden aria-label="Stop generating">Stop</button>
  </form>
</section>
<button type="button" class="launcher" aria-controls="panel" aria-expanded="false">Chat</button>`;
  // A constructed style sheet needs no 'unsafe-inline' in the host page's Content-Security-Policy.
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet.prototype.replaceSync === "function") {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement("style");
    style.textContent = css;
    root.prepend(style);
  }

  const $ = (selector) => root.querySelector(selector);
  const panel = $(".panel");
  const launcher = $(".launcher");
  const log = $(".log");
  const status = $(".status");
  const form = $("form");
  const input = $("textarea");
  const sendButton = $(".send");
  const stopButton = $(".stop");

  let settings = { title: "Chat", greeting: "", maxMessageChars: 4000, maxMessages: 40, turnstileSiteKey: null };
  let inFlight = null;

  function bubble(role, text) {
    const element = document.createElement("div");
    element.className = `msg ${role}`;
    element.textContent = text;
    log.append(element);
    log.scrollTop = log.scrollHeight;
    return element;
  }

  /** Thumbs up and down under a complete answer; a rating can be changed, and is remembered with the answer. */
  function ratingButtons(message) {
    const row = document.createElement("div");
    row.className = "rate";
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", "Rate this answer");
    // Words, not emoji: not every system has an emoji font.
    for (const [rating, label, text] of [
      ["up", "Good answer", "Helpful"],
      ["down", "Bad answer", "Not helpful"],
    ]) {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.rating = rating;
      button.setAttribute("aria-label", label);
      button.setAttribute("aria-pressed", String(message.rating === rating));
      button.textContent = text;
      button.addEventListener("click", () => rate(message, rating, row));
      row.append(button);
    }
    log.append(row);
    return row;
  }

  async function rate(message, rating, row) {
    try {
      const token = session || (await startSession());
      const response = await fetch(endpoint("feedback"), {
        method: "POST",
        headers: { "content-type": "application/json", "x-edgegate-session": token },
        body: JSON.stringify({ request_id: message.requestId, rating }),
      });
      if (!response.ok) {
        const body = await response.json().catch(() => null);
        throw new Error(errorText(response, body));
      }
      message.rating = rating;
      store.write("conversation", conversation);
      for (const button of row.querySelectorAll("button")) button.setAttribute("aria-pressed", String(button.dataset.rating === rating));
    } catch (error) {
      showStatus(error instanceof TypeError ? "Could not reach the chat service. Check your connection and try again." : error.message);
    }
  }

  function renderConversation() {
    log.replaceChildren();
    if (settings.greeting) bubble("assistant", settings.greeting);
    for (const message of conversation) {
      bubble(message.role, message.content);
      if (message.role === "assistant" && message.requestId && message.signature) ratingButtons(message);
    }
  }

  function setOpen(open) {
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.textContent = open ? "Close chat" : settings.title;
    if (open) input.focus();
  }

  function setBusy(busy) {
    sendButton.hidden = busy;
    stopButton.hidden = !busy;
    if (!busy && !panel.hidden) input.focus();
  }

  function showStatus(text) {
    status.textContent = text;
  }

  // ---- talking to the gateway
  function errorText(response, body) {
    const type = body && body.error && body.error.type;
    const retryAfter = Number(response.headers.get("retry-after"));
    const wait = retryAfter > 0 ? ` in ${retryAfter < 120 ? `${retryAfter} seconds` : `${Math.ceil(retryAfter / 60)} minutes`}` : " shortly";
    if (type === "billing_error") return "This chat has reached its usage limit for now. Please come back later.";
    if (type === "rate_limit_error") return `You're sending messages faster than this chat allows. Please try again${wait}.`;
    if (type === "invalid_request_error" && body.error.message) return body.error.message;
    if (response.status === 401 || response.status === 403) return "This chat is not available on this page.";
    return `The assistant is busy right now. Please try again${wait}.`;
  }

  let turnstileScript = null;
  function loadTurnstile() {
    turnstileScript ??= new Promise((resolve, reject) => {
      const tag = document.createElement("script");
      tag.src = "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";
      tag.onload = resolve;
      tag.onerror = () => {
        turnstileScript = null; // the next message tries again
        tag.remove();
        reject(new Error("The bot check could not be loaded. Please try again."));
      };
      document.head.append(tag);
    });
    return turnstileScript;
  }

  /** Runs the Turnstile challenge in a light-DOM slot (its iframe cannot live in a shadow root); Stop cancels it. */
  async function turnstileToken(signal) {
    if (!settings.turnstileSiteKey) throw new Error("This chat is not available on this page.");
    await loadTurnstile();
    const slot = document.createElement("div");
    slot.slot = "challenge";
    host.append(slot);
    let widgetId;
    try {
      return await new Promise((resolve, reject) => {
        const failed = () => reject(new Error("The bot check did not pass. Please try again."));
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
        widgetId = window.turnstile.render(slot, {
          sitekey: settings.turnstileSiteKey,
          callback: resolve,
          "error-callback": failed,
          "expired-callback": failed,
          "timeout-callback": failed,
        });
      });
    } finally {
      if (widgetId !== undefined && window.turnstile.remove) window.turnstile.remove(widgetId);
      slot.remove();
    }
  }

  /** A new visitor session from the gateway, after the bot check when the key asks for one. */
  async function startSession(signal, token) {
    const headers = token ? { "cf-turnstile-response": token } : {};
    const response = await fetch(endpoint("session"), { method: "POST", headers, signal });
    if (response.status === 403 && response.headers.get("x-edgegate-turnstile") === "required" && !token) {
      showStatus("Checking that you're human…");
      const fresh = await turnstileToken(signal);
      showStatus("");
      return startSession(signal, fresh);
    }
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error(errorText(response, body));
    }
    session = (await response.json()).session;
    store.write("session", session);
    return session;
  }

  async function post(body, signal, renewed) {
    const token = session || (await startSession(signal));
    const response = await fetch(endpoint("chat"), {
      method: "POST",
      headers: { "content-type": "application/json", "x-edgegate-session": token },
      body: JSON.stringify(body),
      signal,
    });
    if (response.status === 401 && response.headers.get("x-edgegate-session") === "renew" && !renewed) {
      session = null;
      await startSession(signal);
      return post(body, signal, true);
    }
    return response;
  }

  /**
   * Reads Server-Sent Events, calling onText with each piece of answer text as it arrives.
   * After the answer the gateway sends its signature, which the next message sends back.
   */
  async function readStream(response, onText) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    let outcome = "ended";
    let signature = null;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { outcome, signature };
      buffer += decoder.decode(value, { stream: true });
      let boundary;
      while ((boundary = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, "");
        const data = block.split(/\r?\n/).filter((line) => line.startsWith("data:")).map((line) => line.slice(5).trim()).join("\n");
        if (!data) continue;
        let event;
        try {
          event = JSON.parse(data);
        } catch {
          event = { type: "error" };
        }
        if (event.type === "content_block_delta" && event.delta.type === "text_delta") onText(event.delta.text);
        else if (event.type === "message_stop") outcome = "complete";
        else if (event.type === "edgegate_turn") signature = event.signature;
        else if (event.type === "error") {
          reader.cancel().catch(() => {});
          return { outcome: "error", signature: null };
        }
      }
    }
  }

  /**
   * What the next message is sent with: the visitor's messages and the answers the gateway
   * signed (a stopped answer has no signature: it stays on screen but is not sent back),
   * with the signature of the latest answer.
   */
  function sendable(messages) {
    const kept = messages.filter((message) => message.role === "user" || message.signature);
    const lastAnswer = kept.filter((message) => message.role === "assistant").pop();
    return {
      messages: kept.map((message) => ({ role: message.role, content: message.content })),
      ...(lastAnswer ? { signature: lastAnswer.signature } : {}),
    };
  }

  async function send(text) {
    showStatus("");
    // "New" may replace the conversation while this answer streams; this one is then dropped.
    const thread = conversation;
    const body = sendable([...thread, { role: "user", content: text }]);
    if (body.messages.length > settings.maxMessages) {
      showStatus("This conversation has reached its length limit. Press New to start another one.");
      input.value = text;
      return;
    }
    thread.push({ role: "user", content: text });
    store.write("conversation", thread);
    bubble("user", text);
    const answer = bubble("assistant", "");
    answer.setAttribute("aria-busy", "true");
    log.setAttribute("aria-busy", "true");
    const controller = new AbortController();
    inFlight = controller;
    setBusy(true);
    let reply = "";
    let outcome;
    let signature = null;
    let requestId = null;
    try {
      const response = await post(body, controller.signal);
      requestId = response.headers.get("x-request-id");
      if (!response.ok) {
        const error = await response.json().catch(() => null);
        throw new Error(errorText(response, error));
      }
      ({ outcome, signature } = await readStream(response, (piece) => {
        reply += piece;
        answer.textContent = reply;
        log.scrollTop = log.scrollHeight;
      }));
    } catch (error) {
      outcome = "failed";
      if (!controller.signal.aborted) {
        showStatus(error instanceof TypeError ? "Could not reach the chat service. Check your connection and try again." : error.message);
      }
    } finally {
      inFlight = null;
      answer.removeAttribute("aria-busy");
      log.removeAttribute("aria-busy");
      setBusy(false);
    }
    if (thread !== conversation) return;
    if (controller.signal.aborted) outcome = "stopped";
    else if (outcome === "error" || outcome === "ended") showStatus("The answer was interrupted. Please try again.");
    if (reply) {
      const message = signature ? { role: "assistant", content: reply, signature, requestId } : { role: "assistant", content: reply };
      thread.push(message);
      if (signature && requestId) ratingButtons(message);
    } else {
      answer.remove();
      if (outcome === "failed") {
        // Nothing was answered: give the message back so it can be sent again.
        thread.pop();
        log.lastElementChild && log.lastElementChild.remove();
        input.value = text;
      }
    }
    if (outcome === "stopped") answer.dataset.stopped = "true";
    store.write("conversation", thread);
  }

  // ---- events
  launcher.addEventListener("click", () => setOpen(panel.hidden));
  $(".close").addEventListener("click", () => {
    setOpen(false);
    launcher.focus();
  });
  $(".clear").addEventListener("click", () => {
    if (inFlight) inFlight.abort();
    conversation = [];
    store.write("conversation", conversation);
    showStatus("");
    renderConversation();
    input.focus();
  });
  stopButton.addEventListener("click", () => inFlight && inFlight.abort());
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      setOpen(false);
      launcher.focus();
    }
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || inFlight) return;
    if (text.length > settings.maxMessageChars) {
      showStatus(`Please keep messages under ${settings.maxMessageChars} characters (this one has ${text.length}).`);
      return;
    }
    input.value = "";
    send(text);
  });

  // ---- start: the key's public settings decide the title, greeting and limits
  fetch(endpoint("config"))
    .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))))
    .then((loaded) => {
      settings = loaded;
      $("#title").textContent = settings.title;
      input.maxLength = settings.maxMessageChars;
    })
    .catch(() => {
      input.disabled = true;
      sendButton.disabled = true;
      showStatus("This chat is not available on this page.");
    })
    .finally(() => {
      setOpen(script.dataset.open === "true");
      renderConversation();
    });
  if (document.body) document.body.append(host);
  else document.addEventListener("DOMContentLoaded", () => document.body.append(host));
})();
