// The status page, live: the server sends the page's state over server-sent events at
// once and whenever the line changes; this puts it in place without a reload. Without
// JavaScript the page is the same, only not live.
(function () {
  "use strict";
  var section = document.getElementById("state");
  if (!section || !window.EventSource) { return; }
  var token = location.pathname.split("/")[2];

  function text(id, value) {
    var el = document.getElementById(id);
    if (el) { el.textContent = value === null || value === undefined ? "" : String(value); }
  }
  function show(id, on) {
    var el = document.getElementById(id);
    if (el) { el.hidden = !on; }
  }
  function render(s) {
    section.dataset.state = s.state;
    text("headline", s.headline);
    document.title = s.headline + ": " + s.place;
    text("place", s.place);
    text("day", s.day);
    text("position", s.position);
    text("ahead", s.ahead);
    text("wait", s.wait);
    show("spot", s.position !== null);
    show("coming", s.state === "called" && s.confirmed);
    show("here-form", s.can_here);
    show("late-form", s.can_late);
    show("leave-form", s.can_leave);
  }

  // EventSource reconnects by itself; the server sends the current state on each
  // (re)connection, so a page that was offline catches up at once.
  var source = new EventSource("/s/" + encodeURIComponent(token) + "/events");
  source.onmessage = function (event) { render(JSON.parse(event.data)); };
  source.addEventListener("ended", function () { source.close(); location.reload(); });
}());
