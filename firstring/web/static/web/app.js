// Firstring's agents' app: keyboard navigation, live updates over /ws/live/, HTMX glue. No framework.
(function () {
  "use strict";

  function typing(target) {
    return target instanceof HTMLElement &&
      (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
  }

  // Keyboard: j/k move in the inbox, Enter opens (the rows are links), r focuses the reply, / the search.
  function rows() { return Array.from(document.querySelectorAll("#inbox-list .row-link")); }
  let selectedId = null;

  function select(link) {
    rows().forEach(function (r) { r.classList.toggle("selected", r === link); });
    if (link) {
      selectedId = link.dataset.id;
      link.focus();
      link.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    const list = rows();
    if (!list.length) return;
    const current = list.indexOf(document.activeElement);
    const from = current >= 0 ? current : list.findIndex(function (r) { return r.dataset.id === selectedId; });
    const next = from < 0 ? 0 : Math.min(list.length - 1, Math.max(0, from + step));
    select(list[next]);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "Escape" && typing(event.target)) { event.target.blur(); return; }
    if (typing(event.target)) return;
    if (event.key === "j") { move(1); event.preventDefault(); }
    else if (event.key === "k") { move(-1); event.preventDefault(); }
    else if (event.key === "/") {
      const search = document.getElementById("q");
      if (search) { search.focus(); search.select(); event.preventDefault(); }
    } else if (event.key === "r") {
      const reply = document.getElementById("reply-text");
      if (reply) { reply.focus(); event.preventDefault(); }
    }
  });

  // After HTMX swaps the list, keep the selection where it was.
  document.addEventListener("htmx:afterSwap", function () {
    if (selectedId === null) return;
    const again = rows().find(function (r) { return r.dataset.id === selectedId; });
    if (again) again.classList.add("selected");
  });

  // Reset a composer after it was accepted.
  document.addEventListener("htmx:afterRequest", function (event) {
    const form = event.detail.elt;
    if (event.detail.successful && form instanceof HTMLFormElement && form.classList.contains("js-reset")) {
      form.reset();
    }
  });

  // Errors: our own (marked with HX-Retarget) are shown in the alert area; anything else gets a line too.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const xhr = event.detail.xhr;
    if (xhr.status < 400) return;
    const alerts = document.getElementById("alerts");
    if (xhr.getResponseHeader("HX-Retarget")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
      event.detail.target = alerts;
      event.detail.swapOverride = "innerHTML";
    } else if (alerts) {
      alerts.textContent = "That did not work (" + xhr.status + "). Reload the page and try again.";
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    // A successful action clears an old error; a refresh in the background (live updates, offers) does not.
    const alerts = document.getElementById("alerts");
    const action = event.detail.requestConfig && event.detail.requestConfig.verb !== "get";
    if (action && event.detail.successful && alerts && event.detail.target !== alerts) alerts.textContent = "";
  });
  document.addEventListener("htmx:sendError", function () {
    const alerts = document.getElementById("alerts");
    if (alerts) alerts.textContent = "The server cannot be reached. Check the connection and try again.";
  });
  document.addEventListener("click", function (event) {
    const button = event.target instanceof Element ? event.target.closest(".js-dismiss") : null;
    if (button && button.parentElement) button.parentElement.remove();
  });

  // Live updates: only ids arrive; the page fetches what changed through the normal views.
  function debounce(fn, ms) {
    let timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  let liveSocket = null;

  function connect(onMessage) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let delay = 1000;
    function open() {
      const socket = new WebSocket(scheme + "//" + location.host + "/ws/live/");
      liveSocket = socket;
      let ping = null;
      socket.addEventListener("open", function () {
        delay = 1000;
        // While a page is open the agent is at a screen: routing sets away whoever has none open.
        ping = setInterval(function () { socket.send(JSON.stringify({ type: "ping" })); }, 60000);
        document.documentElement.dataset.live = "connected";
        onMessage({ type: "connected" }); // notices may have been missed while disconnected
      });
      socket.addEventListener("message", function (message) {
        let data;
        try { data = JSON.parse(message.data); } catch (e) { return; }
        if (data && typeof data.type === "string") onMessage(data);
      });
      socket.addEventListener("close", function (event) {
        if (ping) clearInterval(ping);
        document.documentElement.dataset.live = "closed";
        if (event.code === 4401) return; // signed out
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      });
    }
    open();
  }

  function start() {
    const handlers = [];
    const inbox = document.querySelector("[data-live=inbox]");
    if (inbox) {
      const refresh = debounce(function () {
        htmx.ajax("GET", location.pathname + location.search, { target: "#inbox-list", swap: "outerHTML" });
      }, 400);
      handlers.push(function (data) { if (data.type === "conversation.changed") refresh(); });
    }
    const page = document.querySelector("[data-live=conversation]");
    if (page) {
      const id = Number(page.dataset.conversationId);
      const url = page.dataset.timelineUrl;
      const refresh = debounce(function () {
        htmx.ajax("GET", url, { target: "#timeline", swap: "outerHTML" });
      }, 200);
      handlers.push(function (data) {
        if (data.type === "conversation.changed" && data.conversation_id === id) refresh();
      });
      // Typing, both ways: a chat customer's widget shows that the agent writes, and this page
      // shows that the customer does.
      const typingLine = document.getElementById("customer-typing");
      let typingTimer = null;
      handlers.push(function (data) {
        if (data.type === "connected" && liveSocket) {
          liveSocket.send(JSON.stringify({ type: "watch", conversation_id: id }));
        }
        if (data.type === "watching" && data.conversation_id === id) document.documentElement.dataset.watching = String(id);
        if (data.type !== "typing" || data.conversation_id !== id || !typingLine) return;
        typingLine.hidden = false;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typingLine.hidden = true; }, 4000);
      });
      const reply = document.getElementById("reply-text");
      let typedAt = 0;
      if (reply) reply.addEventListener("input", function () {
        const now = Date.now();
        if (now - typedAt < 2000 || !liveSocket || liveSocket.readyState !== WebSocket.OPEN) return;
        typedAt = now;
        liveSocket.send(JSON.stringify({ type: "typing", conversation_id: id }));
      });
    }
    const board = document.querySelector("[data-live=supervisor]");
    if (board) {
      const refresh = debounce(function () { htmx.trigger(document.body, "board-changed"); }, 1000);
      handlers.push(function (data) { if (data.type === "conversation.changed") refresh(); });
    }
    // Offers ring on every page: a notice makes the routing bar fetch them again.
    if (document.getElementById("routing-bar")) {
      handlers.push(function (data) {
        if ((data.type === "notice" && data.kind === "offer") || data.type === "connected") {
          htmx.trigger(document.body, "offers-changed");
        }
        if ((data.type === "notice" && data.kind === "notification") || data.type === "connected") {
          htmx.trigger(document.body, "notifications-changed");
        }
      });
    }
    if (handlers.length) connect(function (data) { handlers.forEach(function (handle) { handle(data); }); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
