// Withdrawals that update without a reload: while any is open, poll /api/v1/me/withdrawals
// and rewrite each row's status, late mark and steps. No dependencies.
(function () {
  "use strict";
  var EVERY_MS = 2000;
  var table = document.getElementById("withdrawals");
  if (!table) { return; }
  var words = JSON.parse(table.dataset.statusWords || "{}");

  function word(status) { return words[status] || status; }

  function tone(status) {
    if (status === "complete") { return "good"; }
    return status === "overdue" ? "bad" : "warn";
  }

  function time(iso) {
    return iso.replace("T", " ").slice(11, 19);
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

  function anyOpen() {
    return table.querySelector('tr[data-open="true"]') !== null;
  }

  function poll() {
    if (!anyOpen()) { return; }
    fetch("/api/v1/me/withdrawals", {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (withdrawals) {
      (withdrawals || []).forEach(function (withdrawal) {
        var row = table.querySelector('tr[data-withdrawal-id="' + withdrawal.id + '"]');
        if (row) { update(row, withdrawal); }
      });
    }).catch(function () { /* try again on the next tick */ })
      .then(function () { window.setTimeout(poll, EVERY_MS); });
  }

  window.setTimeout(poll, EVERY_MS);
}());
