// The request inspector's live rows: an EventSource on the table's data-stream URL; each
// "request" event's data is a table row rendered (and escaped) by the server, put on top.
// Without JavaScript the page still lists the requests; reloading shows new ones.
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("requests");
    var url = table ? table.getAttribute("data-stream") : null;
    if (!url || !window.EventSource) {
      return;
    }
    var rows = document.getElementById("request-rows");
    var status = document.getElementById("live-status");
    var source = new EventSource(url);
    function show(text, kind) {
      if (status) {
        status.textContent = text;
        status.className = "badge live-status " + kind;
      }
    }
    source.addEventListener("ready", function () {
      show("live", "ok");
    });
    source.addEventListener("error", function () {
      show("reconnecting", "warn");
    });
    source.addEventListener("request", function (event) {
      if (document.getElementById("row-" + event.lastEventId)) {
        return;
      }
      var holder = document.createElement("tbody");
      holder.innerHTML = event.data;
      var row = holder.firstElementChild;
      if (row) {
        rows.insertBefore(row, rows.firstElementChild);
        var empty = document.getElementById("no-requests");
        if (empty) {
          empty.remove();
        }
      }
    });
    window.addEventListener("pagehide", function () {
      source.close();
    });
  });
})();
