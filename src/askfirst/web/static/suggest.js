// Emoji suggestions as you type: a debounced fetch of /api/v1/suggestions for the draft's end,
// shown as buttons that insert the emoji's :short_name: at the cursor. No dependencies.
(function () {
  "use strict";
  var WAIT_MS = 150;        // debounce: ask once typing pauses
  var DRAFT_TAIL = 500;     // the words near the cursor are what matter
  // Looked up on each use: the chat page may open another conversation in place.
  var draft = null;
  var list = null;
  var timer = null;
  var latest = 0;           // answers to older requests are dropped

  function clear() {
    if (!list) { return; }
    while (list.firstChild) { list.removeChild(list.firstChild); }
  }

  function insert(name) {
    var start = draft.selectionStart, end = draft.selectionEnd, value = draft.value;
    var before = value.slice(0, start);
    var spacer = before && !/\s$/.test(before) ? " " : "";
    var text = spacer + ":" + name + ": ";
    draft.value = before + text + value.slice(end);
    var cursor = start + text.length;
    draft.focus();
    draft.setSelectionRange(cursor, cursor);
    ask();
  }

  function show(suggestions) {
    clear();
    suggestions.forEach(function (suggestion) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "suggestion";
      button.setAttribute("aria-label", "Insert " + suggestion.name + " (" +
        (suggestion.source === "learned" ? "learned in this workspace" : "from the emoji list") + ")");
      button.dataset.name = suggestion.name;
      button.textContent = suggestion.char + " " + suggestion.name;
      button.addEventListener("click", function () { insert(suggestion.name); });
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function ask() {
    var text = draft.value.slice(-DRAFT_TAIL);
    var request = ++latest;
    if (!text.trim()) { clear(); return; }
    var query = new URLSearchParams({ text: text, channel: draft.dataset.channel || "" });
    fetch("/api/v1/suggestions?" + query.toString(), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (body) {
      if (body && request === latest) { show(body.suggestions); }
    }).catch(function () { /* suggestions are a help, never a blocker */ });
  }

  document.addEventListener("input", function (event) {
    if (event.target.id !== "draft") { return; }
    draft = event.target;
    list = document.getElementById("suggestions");
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, WAIT_MS);
  });
}());
