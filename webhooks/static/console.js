// The console's live table: the server sends the line's rendered rows after every
// change (server-sent events); the forms inside keep working as plain forms.
(function () {
  "use strict";
  var line = document.getElementById("line");
  if (!line || !window.EventSource) { return; }
  var source = new EventSource("/console/events?day=" + encodeURIComponent(line.dataset.day));
  source.addEventListener("line", function (event) {
    // The HTML is the server's own template, autoescaped there.
    line.innerHTML = event.data;
    line.dataset.live = "1";
  });
})();
