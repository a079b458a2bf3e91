// The chat page as an app: Enter sends, forms are sent without a reload, and new messages and
// reactions arrive by asking /chat/updates every few seconds. Without JavaScript every form
// still posts as a plain HTML form. No dependencies, no build step.
(function () {
  "use strict";
  var POLL_MS = 3000;
  var ACTIONS = ["/chat/messages", "/chat/reactions", "/chat/join"];
  var NEAR_BOTTOM_PX = 80;
  var token = document.querySelector('meta[name="csrf-token"]');
  var chat = null;      // the open conversation: its elements and what the page has seen
  var inFlight = false;
  var askAgain = false;  // something changed while a round was out: ask once more after it

  function isJson(response) {
    return (response.headers.get("content-type") || "").indexOf("application/json") === 0;
  }

  // --- the open conversation -------------------------------------------------------------
  function open() {
    var conversation = document.getElementById("conversation");
    if (!conversation) { chat = null; return; }
    chat = {
      channel: conversation.dataset.channelId,
      latest: Number(conversation.dataset.latest) || 0,
      messages: document.getElementById("messages"),
      live: document.getElementById("chat-live"),
      sent: {},          // ids of this page's own messages: not announced back to the sender
      stopped: false
    };
    var hint = document.getElementById("enter-sends");
    if (hint) { hint.hidden = false; }
    var named = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
    if (named && chat.messages.contains(named)) {
      chat.messages.scrollTop = named.offsetTop - chat.messages.offsetTop - 40;
    } else {
      toBottom();
    }
    var draft = document.getElementById("draft");
    if (draft && draft.value.trim()) { draft.dispatchEvent(new Event("input", { bubbles: true })); }
  }

  function toBottom() { chat.messages.scrollTop = chat.messages.scrollHeight; }

  function nearBottom() {
    var list = chat.messages;
    return list.scrollHeight - list.scrollTop - list.clientHeight < NEAR_BOTTOM_PX;
  }

  function problem(lead, text) {
    var slot = document.getElementById("chat-error-slot");
    if (!slot) { return; }
    var box = document.createElement("div");
    box.className = "error";
    box.id = "chat-error";
    box.setAttribute("role", "alert");
    var para = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = lead;
    para.appendChild(strong);
    para.appendChild(document.createTextNode(" " + text + "."));
    box.appendChild(para);
    slot.replaceChildren(box);
  }

  function clearProblem() {
    var slot = document.getElementById("chat-error-slot");
    if (slot) { slot.replaceChildren(); }
  }

  // --- updates: new messages and reactions ---------------------------------------------------
  function fromHtml(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html.trim();
    return holder.content.firstElementChild;
  }

  function addMessage(update) {
    if (document.getElementById("m" + update.id)) { return false; }
    var list = chat.messages;
    var parent = null;
    if (update.parent !== null) {
      parent = document.getElementById("m" + update.parent);
      list = parent ? parent.querySelector(":scope > .replies") : null;
      if (!list) { return false; }
    }
    list.appendChild(fromHtml(update.html));
    var summary = parent ? parent.querySelector(":scope > details.reply > summary") : null;
    if (summary) { summary.textContent = "Reply in thread (" + list.children.length + " so far)"; }
    return true;
  }

  function signature(reactions) {
    return reactions.map(function (r) { return r.emoji + ":" + r.count + ":" + (r.mine ? 1 : 0); }).join(",");
  }

  function shownSignature(box) {
    return Array.prototype.map.call(box.querySelectorAll(":scope > .reaction"), function (el) {
      var count = el.querySelector(".count");
      return el.dataset.emoji + ":" + (count ? count.textContent : "") + ":" +
        (el.classList.contains("mine") ? 1 : 0);
    }).join(",");
  }

  function reactionElement(reaction, asButton) {
    var el = document.createElement(asButton ? "button" : "span");
    el.className = "reaction" + (reaction.mine ? " mine" : "");
    el.dataset.emoji = reaction.emoji;
    if (asButton) {
      el.type = "submit";
      el.name = reaction.mine ? "remove" : "emoji";
      el.value = reaction.emoji;
      el.setAttribute("aria-pressed", reaction.mine ? "true" : "false");
      el.setAttribute("aria-label", reaction.label);
    } else {
      el.setAttribute("aria-label", reaction.emoji + ": " + reaction.count);
    }
    var count = document.createElement("span");
    count.className = "count";
    count.textContent = String(reaction.count);
    el.appendChild(document.createTextNode(reaction.char + " "));
    el.appendChild(count);
    return el;
  }

  function setReactions(id, reactions) {
    var item = document.getElementById("m" + id);
    var box = item ? item.querySelector(":scope > .reactions") : null;
    if (!box || shownSignature(box) === signature(reactions)) { return; }
    var focused = box.contains(document.activeElement) ? document.activeElement.dataset.emoji : null;
    var asButton = box.tagName === "FORM";
    var before = box.querySelector(":scope > details.react");
    box.querySelectorAll(":scope > .reaction").forEach(function (el) { el.remove(); });
    reactions.forEach(function (reaction) {
      var el = reactionElement(reaction, asButton);
      box.insertBefore(el, before);
      if (focused === reaction.emoji) { el.focus(); }
    });
  }

  function announce(added) {
    var others = added.filter(function (update) { return !chat.sent[update.id]; });
    if (!others.length) { return; }
    chat.live.textContent = others.length === 1
      ? "New message from " + others[0].author
      : others.length + " new messages";
  }

  function apply(body) {
    var stick = nearBottom();
    var added = body.messages.filter(addMessage);
    Object.keys(body.reactions).forEach(function (id) { setReactions(id, body.reactions[id]); });
    chat.latest = Math.max(chat.latest, body.latest);
    if (!added.length) { return; }
    var empty = document.getElementById("no-messages");
    if (empty) { empty.remove(); }
    var mine = added.some(function (update) { return chat.sent[update.id] && update.parent === null; });
    if (stick || mine) { toBottom(); }
    announce(added);
  }

  function poll() {
    if (inFlight) { askAgain = true; return Promise.resolve(); }
    if (!chat || chat.stopped) { return Promise.resolve(); }
    var asked = chat;
    inFlight = true;
    var query = new URLSearchParams({ channel: asked.channel, after: String(asked.latest) });
    return fetch("/chat/updates?" + query.toString(), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      if (response.ok && isJson(response)) { return response.json(); }
      // Signed out (sent to the sign-in page) or the channel is gone: stop asking.
      asked.stopped = true;
      problem("Updates stopped:", "reload the page to see new messages");
      return null;
    }).then(function (body) {
      if (body && asked === chat) { apply(body); }
    }).catch(function () { /* offline for a moment: the next round asks again */ })
      .then(function () {
        inFlight = false;
        if (askAgain) { askAgain = false; return poll(); }
      });
  }

  // --- actions: send, react, join without a reload ----------------------------------------
  function postPlainly(form, submitter) {
    // Nothing was changed; let the browser post the form so the page explains why.
    if (submitter && submitter.name) {
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = submitter.name;
      field.value = submitter.value;
      form.appendChild(field);
    }
    HTMLFormElement.prototype.submit.call(form);
  }

  function sent(form, action, body) {
    clearProblem();
    if (action === "/chat/join") { return swap("/chat?channel=" + body.channel_id, true); }
    if (action === "/chat/messages") {
      chat.sent[body.message_id] = true;
      var box = form.querySelector("textarea");
      box.value = "";
      box.dispatchEvent(new Event("input", { bubbles: true }));
      box.focus();
    } else {
      var menu = form.querySelector("details.react[open]");
      if (menu) { menu.open = false; menu.querySelector("summary").focus(); }
    }
    return poll();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var action = form.getAttribute("action");
    if (ACTIONS.indexOf(action) < 0 || !token || !window.fetch) { return; }
    event.preventDefault();
    if (form.dataset.sending) { return; }
    form.dataset.sending = "yes";
    var submitter = event.submitter;
    var data = new URLSearchParams(new FormData(form));
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    fetch(action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": token.content }
    }).then(function (response) {
      delete form.dataset.sending;
      if (!isJson(response)) { return postPlainly(form, submitter); }
      return response.json().then(function (body) {
        if (response.ok) { return sent(form, action, body); }
        problem("Nothing was changed:", body.detail);
      });
    }).catch(function () {
      delete form.dataset.sending;
      problem("Not sent:", "the server could not be reached; check the connection and try again");
    });
  });

  // Enter sends, Shift+Enter starts a new line (as in other chat apps).
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.altKey || event.ctrlKey ||
        event.metaKey || event.isComposing) { return; }
    if (!box.matches || !box.matches("form textarea[name=text]")) { return; }
    event.preventDefault();
    if (box.value.trim()) { box.form.requestSubmit(); }
  });

  // --- opening another conversation in place --------------------------------------------------
  function swap(url, remember) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      var fresh = html ? new DOMParser().parseFromString(html, "text/html") : null;
      var next = fresh ? fresh.querySelector(".chat") : null;
      var now = document.querySelector(".chat");
      if (!next || !now) { window.location.assign(url); return; }
      if (chat) { chat.stopped = true; }
      now.replaceWith(document.importNode(next, true));
      document.title = fresh.title;
      if (remember) { window.history.pushState({ chat: true }, "", url); }
      open();
      var draft = document.getElementById("draft");
      (draft || document.getElementById("channel-heading")).focus();
    });
  }

  window.addEventListener("popstate", function () {
    if (document.getElementById("conversation")) { swap(window.location.href, false); }
  });

  open();
  window.setInterval(function () { if (!document.hidden) { poll(); } }, POLL_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
}());
