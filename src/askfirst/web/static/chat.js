// The newest messages are at the bottom, as in any chat: start there unless a message is named.
(function () {
  "use strict";
  var messages = document.getElementById("messages");
  if (!messages) { return; }
  var named = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
  if (named && messages.contains(named)) {
    messages.scrollTop = named.offsetTop - 40;
  } else {
    messages.scrollTop = messages.scrollHeight;
  }
}());
