/* Firstring web chat widget. Embed with one tag on any page:
 *   <script src="https://<firstring>/channels/webchat/widget.js" data-channel="<slug>" async></script>
 * Optional: data-user-id or data-email with data-user-hash (HMAC-SHA256 under the channel's identity
 * secret, computed by the site's server) for signed-in users; data-name.
 * No framework; everything lives in a shadow root so the page's styles and ours never mix.
 * Before a visitor's first message, what they type is looked up in the help center (POST …/suggest):
 * up to three articles and a few community threads are offered, with a way on to an agent.
 * The protocol is described in firstring/channels/webchat/consumers.py. */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector("script[data-channel][src*='/channels/webchat/widget.js']");
  if (!script || window.FirstringChat) return;
  var slug = script.getAttribute("data-channel") || "";
  var origin = new URL(script.src, location.href).origin;
  var wsUrl = origin.replace(/^http/, "ws") + "/ws/chat/" + encodeURIComponent(slug) + "/";
  var cookieName = "firstring_chat_" + slug.replace(/[^A-Za-z0-9_-]/g, "_");
  var pendingKey = cookieName + "_pending";
  var user = null;
  var userHash = script.getAttribute("data-user-hash");
  if (userHash) {
    user = { hash: userHash };
    if (script.getAttribute("data-user-id")) user.id = script.getAttribute("data-user-id");
    else user.email = script.getAttribute("data-email") || "";
  }

  var CSS = [
    ":host{all:initial;--c:#2563eb}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;",
    "background:var(--c);color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}",
    ".badge{position:absolute;top:-4px;right:-4px;background:#dc2626;color:#fff;border-radius:10px;",
    "font-size:12px;padding:1px 6px}",
    ".panel{position:fixed;right:20px;bottom:88px;width:360px;max-width:calc(100vw - 24px);height:520px;",
    "max-height:calc(100vh - 110px);background:#fff;color:#1b1f24;border-radius:12px;display:flex;",
    "flex-direction:column;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.3);z-index:2147483001;font-size:14px}",
    ".panel[hidden],[hidden]{display:none!important}",
    "header{background:var(--c);color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}",
    ".grow{flex:1}header h2{font-size:16px;margin:0}header p{margin:2px 0 0;font-size:12px;opacity:.9}",
    "header button{background:none;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f8fa}",
    ".m{max-width:82%;display:flex;gap:6px;align-items:flex-end}",
    ".m.visitor{align-self:flex-end;flex-direction:row-reverse}",
    ".b{padding:8px 11px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;",
    "border:1px solid #d0d7de}.visitor .b{background:var(--c);color:#fff;border-color:var(--c)}",
    ".m.pending .b{opacity:.6}.who{font-size:11px;color:#57606a;margin:0 0 2px}",
    ".av{width:28px;height:28px;border-radius:50%;flex:none;background:#d0d7de;color:#1b1f24;font-size:12px;",
    "display:flex;align-items:center;justify-content:center;overflow:hidden}.av img{width:100%;height:100%;object-fit:cover}",
    ".sv{display:flex;gap:4px;margin-top:6px}.sv a{flex:1;text-align:center;padding:4px 0;border:1px solid #d0d7de;",
    "border-radius:6px;color:#1b1f24;text-decoration:none;background:#f6f8fa}",
    ".note{align-self:center;color:#57606a;font-size:12px;text-align:center}",
    ".typing{font-size:12px;color:#57606a;padding:0 12px 4px;font-style:italic;background:#f6f8fa}",
    "form{border-top:1px solid #d0d7de;padding:8px;display:flex;flex-direction:column;gap:6px;margin:0}",
    "input,textarea{width:100%;border:1px solid #d0d7de;border-radius:8px;padding:8px;font-size:16px;color:#1b1f24;background:#fff}",
    "textarea{resize:none;height:44px}.row{display:flex;gap:6px;align-items:flex-end}",
    ".send{background:var(--c);color:#fff;border:0;border-radius:8px;padding:0 14px;height:44px;cursor:pointer;font-size:14px}",
    ".err{color:#b91c1c;font-size:12px;margin:0}",
    ".tips{border-top:1px solid #d0d7de;padding:8px 12px;background:#fff;max-height:45%;overflow-y:auto}",
    ".tips p{margin:0 0 4px;font-size:12px;color:#57606a}.tips ul{margin:0 0 6px;padding:0;list-style:none}",
    ".tips li{margin:0 0 6px}.tips a{color:var(--c);font-weight:600}.tips small{display:block;color:#57606a}",
    ".agent{background:none;border:1px solid var(--c);color:var(--c);border-radius:8px;padding:6px 10px;cursor:pointer;font-size:13px}",
    ".clip{background:none;border:1px solid #d0d7de;border-radius:8px;width:40px;height:44px;cursor:pointer;font-size:18px;color:#57606a}",
    ".f{display:block;margin-top:4px;color:inherit;font-size:13px;overflow-wrap:anywhere}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0}",
    ".launcher{right:14px;bottom:14px}}"
  ].join("");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var key in attrs || {}) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    }
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  var host = el("div", { id: "firstring-chat" });
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  // A constructed style sheet: pages whose Content-Security-Policy forbids inline styles still show it.
  if (root.adoptedStyleSheets !== undefined && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el("style", { text: CSS }));
  }
  var badge = el("span", { class: "badge", hidden: "" });
  var launcher = el("button", { class: "launcher", type: "button", "aria-label": "Open the chat", part: "launcher" },
    [badge]);
  // A speech bubble, drawn (emoji fonts are not everywhere).
  launcher.insertAdjacentHTML("afterbegin", '<svg width="28" height="28" viewBox="0 0 24 24" aria-hidden="true">' +
    '<path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>');
  var title = el("h2", { text: "Chat" });
  var status = el("p", { text: "" });
  var closeButton = el("button", { type: "button", "aria-label": "Close the chat", text: "×" });
  var log = el("div", { class: "log", role: "log", "aria-live": "polite" });
  var typingLine = el("div", { class: "typing", hidden: "" });
  var nameInput = el("input", { name: "name", placeholder: "Your name", autocomplete: "name", maxlength: "100", hidden: "" });
  var emailInput = el("input", { name: "email", type: "email", placeholder: "Your e-mail address", autocomplete: "email", maxlength: "254", hidden: "" });
  var textInput = el("textarea", { name: "text", placeholder: "Write a message…", maxlength: "5000", "aria-label": "Message" });
  var sendButton = el("button", { class: "send", type: "submit", text: "Send" });
  var fileInput = el("input", { type: "file", hidden: "" });
  var clip = el("button", { class: "clip", type: "button", "aria-label": "Send a file", title: "Send a file", text: "+" });
  var errorLine = el("p", { class: "err", hidden: "" });
  var form = el("form", {}, [errorLine, nameInput, emailInput, el("div", { class: "row" }, [clip, fileInput, textInput, sendButton])]);
  var tipList = el("ul", {});
  var agentButton = el("button", { class: "agent", type: "button", text: "Still need help? Send to an agent" });
  var tips = el("div", { class: "tips", hidden: "", role: "region", "aria-label": "Suggested answers" },
    [el("p", { text: "These may answer your question:" }), tipList, agentButton]);
  var panel = el("section", { class: "panel", hidden: "", role: "dialog", "aria-label": "Chat" }, [
    el("header", {}, [el("div", { class: "grow" }, [title, status]), closeButton]), log, typingLine, tips, form
  ]);
  root.appendChild(launcher);
  root.appendChild(panel);

  var socket = null, welcomed = false, isOpen = false, delay = 1000, stopped = false;
  var lastId = 0, unread = 0, shown = {}, config = null, offline = false, typingTimer = null, typedAt = 0;
  var pending = loadPending();

  function readCookie() {
    var match = document.cookie.match(new RegExp("(?:^|; )" + cookieName + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }
  function writeCookie(token) {
    document.cookie = cookieName + "=" + encodeURIComponent(token) + "; max-age=" + 400 * 86400 +
      "; path=/; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
  }
  function loadPending() {
    try { return JSON.parse(sessionStorage.getItem(pendingKey) || "[]"); } catch (e) { return []; }
  }
  function savePending() {
    try { sessionStorage.setItem(pendingKey, JSON.stringify(pending)); } catch (e) { /* private mode */ }
  }
  function newId() {
    var bytes = new Uint8Array(12);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function send(frame) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function showError(text) { errorLine.textContent = text; errorLine.hidden = !text; }
  function note(text) { log.appendChild(el("div", { class: "note", text: text })); scrollDown(); }
  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function avatar(agent) {
    var box = el("div", { class: "av", "aria-hidden": "true" });
    if (agent.avatar && /^https?:\/\//.test(agent.avatar)) box.appendChild(el("img", { src: agent.avatar, alt: "" }));
    else box.textContent = (agent.name || "?").split(/\s+/).map(function (w) { return w.charAt(0); }).join("").slice(0, 2).toUpperCase();
    return box;
  }

  function render(message, options) {
    var node = el("div", { class: "m " + message.from + (options && options.pending ? " pending" : "") });
    var body = el("div", {});
    if (message.from === "agent") {
      var agent = message.agent || { name: "", avatar: "" };
      node.appendChild(avatar(agent));
      if (agent.name) body.appendChild(el("p", { class: "who", text: agent.name }));
    }
    var bubble = el("div", { class: "b", text: message.text });
    (message.files || []).forEach(function (file) {
      bubble.appendChild(el("a", { class: "f", href: origin + file.url, target: "_blank", rel: "noopener",
        text: "📎 " + file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)" }));
    });
    if (message.survey) {
      // A survey card: one link per score to the survey page, where a comment may follow.
      var card = el("div", { class: "sv", role: "group", "aria-label": "Your rating" });
      for (var n = message.survey.low; n <= message.survey.high; n++) {
        card.appendChild(el("a", { href: origin + message.survey.path + "?score=" + n, target: "_blank",
          rel: "noopener", text: String(n) }));
      }
      bubble.appendChild(card);
    }
    body.appendChild(bubble);
    node.appendChild(body);
    return node;
  }

  function add(message) {
    if (shown[message.id]) return;
    shown[message.id] = true;
    if (message.id > lastId) lastId = message.id;
    log.appendChild(render(message));
    if (message.from === "agent") {
      typingLine.hidden = true;
      if (!isOpen) { unread += 1; badge.textContent = String(unread); badge.hidden = false; }
    }
    scrollDown();
    if (isOpen) send({ type: "seen", id: lastId });
  }

  function renderPending() {
    Array.prototype.forEach.call(log.querySelectorAll(".pending"), function (n) { n.remove(); });
    pending.forEach(function (p) {
      var node = render({ from: "visitor", text: p.text }, { pending: true });
      node.setAttribute("data-pending", p.id);
      log.appendChild(node);
    });
    scrollDown();
  }

  function applyForm() {
    var first = !lastId && !pending.length && !(config && config.verified);
    var prechat = (config && config.prechat) || {};
    nameInput.hidden = !(offline || (first && prechat.name));
    emailInput.hidden = !(offline || (first && prechat.email));
    nameInput.required = !nameInput.hidden && prechat.name === "required";
    emailInput.required = offline || (!emailInput.hidden && prechat.email === "required");
    clip.hidden = offline;
    textInput.placeholder = offline ? "Leave us a message; we answer by e-mail" : "Write a message…";
  }

  function onFrame(data) {
    if (data.type === "welcome") {
      welcomed = true; delay = 1000; config = data;
      writeCookie(data.token);
      host.style.setProperty("--c", data.color);
      host.setAttribute("data-state", "connected");
      title.textContent = data.title;
      offline = !!data.offline_form && !data.messages.length && !lastId;
      status.textContent = data.online ? "We are online" : (offline ? "We are away: leave a message" : "We reply as soon as we can");
      if (!log.querySelector(".greeting")) log.insertBefore(el("div", { class: "note greeting", text: data.greeting }), log.firstChild);
      data.messages.forEach(add);
      // What was sent but not confirmed before the connection dropped goes again (stored once).
      pending.forEach(function (p) { send(p.frame); });
      applyForm();
    } else if (data.type === "message") {
      add(data.message);
    } else if (data.type === "ack") {
      pending = pending.filter(function (p) { return p.id !== data.id; });
      savePending();
      var stale = log.querySelector("[data-pending='" + data.id + "']");
      if (stale) stale.remove();
      add(data.message);
      applyForm();
    } else if (data.type === "offline.ack") {
      pending = pending.filter(function (p) { return p.id !== data.id; });
      savePending(); renderPending();
      note("Thank you! We will answer by e-mail.");
    } else if (data.type === "typing") {
      typingLine.textContent = (data.name || "An agent") + " is writing…";
      typingLine.hidden = false;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typingLine.hidden = true; }, 4000);
    } else if (data.type === "error") {
      if (data.code < 4000) {
        // The last frame was refused (nothing stored): take it back so the visitor can correct it.
        var refused = pending.pop();
        savePending(); renderPending();
        if (refused) textInput.value = refused.text;
      }
      showError(data.detail);
    }
  }

  function connect() {
    if (socket || stopped) return;
    welcomed = false;
    socket = new WebSocket(wsUrl);
    socket.onopen = function () {
      socket.send(JSON.stringify({ type: "hello", token: readCookie(), after: lastId, user: user }));
    };
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data && typeof data.type === "string") onFrame(data);
    };
    socket.onclose = function (event) {
      socket = null;
      host.setAttribute("data-state", "closed");
      if (event.code >= 4400 && event.code < 4500) { stopped = true; return; } // refused: retrying cannot help
      status.textContent = "Reconnecting…";
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  clip.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    var file = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (!file) return;
    if (config && file.size > config.max_file_bytes) { showError("That file is too large."); return; }
    var data = new FormData();
    data.append("token", readCookie());
    data.append("id", newId());
    data.append("file", file, file.name);
    if (user) {
      data.append("user_hash", user.hash);
      if (user.id) data.append("user_id", user.id); else data.append("email", user.email);
    }
    showError("");
    note("Sending " + file.name + "…");
    var sending = log.lastChild;
    fetch(origin + "/channels/webchat/" + encodeURIComponent(slug) + "/upload", { method: "POST", body: data })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        sending.remove();
        if (result.ok) { add(result.body.message); send({ type: "sync" }); } else showError(result.body.detail || "The file was not sent.");
      })
      .catch(function () { sending.remove(); showError("The file was not sent. Try again."); });
  });

  // Suggestions: only before the first message (nobody has been asked yet), for what is typed now.
  var tipsFor = null, tipTimer = null, tipAsked = "";
  function firstMessage() { return !lastId && !pending.length; }
  function suggest(text, then) {
    tipAsked = text;
    var body = new URLSearchParams();
    body.append("q", text);
    fetch(origin + "/channels/webchat/" + encodeURIComponent(slug) + "/suggest", { method: "POST", body: body })
      .then(function (response) { return response.ok ? response.json() : { items: [] }; })
      .then(function (data) {
        if (textInput.value.trim() !== text || !firstMessage()) return then && then(false);
        showTips(text, data.items || []);
        if (then) then(tipsFor === text);
      })
      .catch(function () { if (then) then(false); });
  }
  function showTips(text, items) {
    tipList.textContent = "";
    items = items.filter(function (item) { return /^https?:\/\//.test(item.url); }).slice(0, 5);
    items.forEach(function (item) {
      var link = el("a", { href: item.url, target: "_blank", rel: "noopener", text: item.title });
      if (item.kind === "article") link.addEventListener("click", function () { opened(item.id); });
      tipList.appendChild(el("li", { "data-kind": item.kind }, [link, el("small", { text: item.snippet })]));
    });
    tipsFor = items.length ? text : null;
    tips.hidden = !items.length;
  }
  function hideTips() { tips.hidden = true; tipsFor = null; clearTimeout(tipTimer); }
  function opened(id) {
    var body = new URLSearchParams();
    body.append("id", String(id));
    fetch(origin + "/channels/webchat/" + encodeURIComponent(slug) + "/suggest/opened",
      { method: "POST", body: body, keepalive: true }).catch(function () { /* a count, not the visitor's business */ });
  }
  agentButton.addEventListener("click", function () { hideTips(); sendNow(); });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = textInput.value.trim();
    if (!text) return;
    // The first question goes by the help center once: if it has answers, they are offered first.
    if (firstMessage() && tipsFor !== text && tipAsked !== text) {
      suggest(text, function (shown) { if (!shown) sendNow(); });
      return;
    }
    sendNow();
  });
  function sendNow() {
    var text = textInput.value.trim();
    if (!text) return;
    if (!emailInput.hidden && emailInput.required && !emailInput.value.trim()) { showError("Please tell us your e-mail address."); return; }
    if (!nameInput.hidden && nameInput.required && !nameInput.value.trim()) { showError("Please tell us your name."); return; }
    showError("");
    var id = newId();
    var frame = { type: offline ? "offline" : "message", id: id, text: text };
    if (!nameInput.hidden && nameInput.value.trim()) frame.name = nameInput.value.trim();
    if (!emailInput.hidden && emailInput.value.trim()) frame.email = emailInput.value.trim();
    pending.push({ id: id, text: text, frame: frame });
    savePending(); renderPending();
    textInput.value = "";
    hideTips();
    if (!send(frame)) connect();
  }
  textInput.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });
  textInput.addEventListener("input", function () {
    var text = textInput.value.trim();
    clearTimeout(tipTimer);
    if (firstMessage() && text.length >= 12 && text !== tipAsked) tipTimer = setTimeout(function () { suggest(text); }, 400);
    else if (!text) hideTips();
    var now = Date.now();
    if (!offline && now - typedAt > 2000 && welcomed) { typedAt = now; send({ type: "typing" }); }
  });

  function open() {
    isOpen = true; panel.hidden = false; unread = 0; badge.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    connect();
    if (lastId) send({ type: "seen", id: lastId });
    setTimeout(function () { textInput.focus(); scrollDown(); }, 0);
  }
  function close() { isOpen = false; panel.hidden = true; launcher.setAttribute("aria-expanded", "false"); }
  launcher.addEventListener("click", function () { if (isOpen) close(); else open(); });
  closeButton.addEventListener("click", close);

  window.FirstringChat = { open: open, close: close };
  function mount() {
    document.body.appendChild(host);
    renderPending();
    // A returning visitor (or a signed-in user) sees their history and replies arriving while closed.
    if (readCookie() || user || pending.length) connect();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
