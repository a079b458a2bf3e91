// The privacy center's live parts, updated without a reload. No dependencies.
// Withdrawals: while any is open, poll /api/v1/me/withdrawals every 2 s and rewrite each row's
// status, late mark and steps. The timeline ("what your data was used for"): fetched from
// /api/v1/me/timeline right after each of those polls (by the time a withdrawal reads complete,
// the release it replaced reads replaced), and every 15 s while it shows a release served now
// (a new training or an admin's switch can retire it).
(function () {
  "use strict";
  var EVERY_MS = 2000;
  var SERVED_EVERY_MS = 15000;
  var table = document.getElementById("withdrawals");
  var timeline = document.getElementById("timeline");
  var empty = document.getElementById("timeline-empty");
  if (!table && !timeline) { return; }
  var words = table ? JSON.parse(table.dataset.statusWords || "{}") : {};
  var drawn = null; // the timeline JSON last drawn: an unchanged timeline is left alone
  var sinceTimeline = 0;

  function word(status) { return words[status] || status; }

  function tone(status) {
    if (status === "complete") { return "good"; }
    return status === "overdue" ? "bad" : "warn";
  }

  function time(iso) {
    return iso.replace("T", " ").slice(11, 19);
  }

  function minute(iso) {
    return iso.slice(0, 10) + " " + iso.slice(11, 16) + " UTC";
  }

  function getJSON(url) {
    return fetch(url, {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    });
  }

  function update(row, withdrawal) {
    var badge = row.querySelector(".status");
    badge.textContent = word(withdrawal.status);
    badge.dataset.status = withdrawal.status;
    badge.className = "badge status " + tone(withdrawal.status);
    row.querySelector(".late").textContent = withdrawal.late ? "(finished after the deadline)" : "";
    var steps = row.querySelector(".steps");
    while (steps.firstChild) { steps.removeChild(steps.firstChild); }
    withdrawal.steps.forEach(function (step) {
      var item = document.createElement("li");
      item.textContent = time(step.at) + " " + word(step.to_status) + ": " + step.detail;
      steps.appendChild(item);
    });
    row.dataset.open = withdrawal.open ? "true" : "false";
  }

  function entry(event) {
    var item = document.createElement("li");
    if (event.release_id !== null) {
      item.dataset.releaseId = String(event.release_id);
      item.dataset.releaseState = event.release_state;
    }
    var when = document.createElement("time");
    when.dateTime = event.at;
    when.textContent = minute(event.at);
    item.appendChild(when);
    item.appendChild(document.createTextNode(event.text));
    if (event.journal_seq) {  // the technical id behind a toggle, as the page renders it
      var ids = document.createElement("details");
      ids.className = "ids";
      var summary = document.createElement("summary");
      summary.textContent = "details";
      var seq = document.createElement("span");
      seq.textContent = "journal entry " + event.journal_seq;
      ids.appendChild(summary);
      ids.appendChild(seq);
      item.appendChild(document.createTextNode(" "));
      item.appendChild(ids);
    }
    return item;
  }

  function draw(events) {
    var json = JSON.stringify(events);
    if (!events || json === drawn) { return; }
    drawn = json;
    while (timeline.firstChild) { timeline.removeChild(timeline.firstChild); }
    events.forEach(function (event) { timeline.appendChild(entry(event)); });
    timeline.hidden = events.length === 0;
    if (empty) { empty.hidden = events.length !== 0; }
  }

  function refreshTimeline() {
    sinceTimeline = 0;
    return timeline ? getJSON("/api/v1/me/timeline").then(draw) : null;
  }

  function refreshWithdrawals() {
    return getJSON("/api/v1/me/withdrawals").then(function (withdrawals) {
      (withdrawals || []).forEach(function (withdrawal) {
        var row = table.querySelector('tr[data-withdrawal-id="' + withdrawal.id + '"]');
        if (row) { update(row, withdrawal); }
      });
    });
  }

  function anyOpen() {
    return table !== null && table.querySelector('tr[data-open="true"]') !== null;
  }

  function anyServed() {
    return timeline !== null &&
      timeline.querySelector('li[data-release-state="served"]') !== null;
  }

  function tick() {
    var work = null;
    if (anyOpen()) {
      work = refreshWithdrawals().then(refreshTimeline);
    } else if (anyServed()) {
      sinceTimeline += EVERY_MS;
      if (sinceTimeline >= SERVED_EVERY_MS && !document.hidden) { work = refreshTimeline(); }
    } else {
      return; // nothing on the page can change by itself any more
    }
    Promise.resolve(work)
      .catch(function () { /* try again on the next tick */ })
      .then(function () { window.setTimeout(tick, EVERY_MS); });
  }

  window.setTimeout(tick, EVERY_MS);
}());
