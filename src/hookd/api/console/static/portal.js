// The consumer portal's opening page: a magic link carries its key in the URL fragment
// (#key=...), which the browser never sends to a server. This takes it out of the address bar
// (and so out of the history) and posts it, once, to /portal/session, which answers with the
// session cookie. Without a key, a live session goes on to the portal.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("portal-open");
    if (!form) {
      return;
    }
    var found = /(?:^#|&)key=([^&]*)/.exec(window.location.hash);
    if (found) {
      window.history.replaceState(null, "", window.location.pathname + window.location.search);
      form.elements.key.value = decodeURIComponent(found[1]);
      form.submit();
    } else if (form.getAttribute("data-continue")) {
      window.location.replace(form.getAttribute("data-continue"));
    }
  });
})();
