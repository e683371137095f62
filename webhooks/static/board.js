// The lobby board, live: the state arrives over server-sent events (at once on every
// (re)connect, then after each change to the line) and replaces the lists' text. Names
// go in with textContent, so they are always text. A newly called name is highlighted;
// with "Enable sound" clicked once (browsers let audio play only after a click), a
// short chime plays too, made with Web Audio (no file, no CDN).
(function () {
  "use strict";
  var screen = document.querySelector(".board-screen");
  if (!screen || !window.EventSource) return;
  var serving = screen.querySelector(".board-serving-list");
  var waiting = screen.querySelector(".board-waiting-list");
  var empty = screen.querySelector(".board-empty");
  var more = screen.querySelector(".board-more");
  var moreCount = screen.querySelector(".board-more-count");
  var waitText = screen.querySelector(".board-wait-text");
  var soundButton = screen.querySelector(".board-sound");
  var audio = null;
  var shown = Array.prototype.map.call(serving.children, function (li) { return li.textContent; });

  if (window.AudioContext || window.webkitAudioContext) {
    soundButton.hidden = false;
    soundButton.addEventListener("click", function () {
      var Context = window.AudioContext || window.webkitAudioContext;
      audio = audio || new Context();
      audio.resume();
      soundButton.textContent = "Sound on";
      soundButton.disabled = true;
      chime();
    });
  }

  function chime() {
    if (!audio || audio.state !== "running") return;
    [660, 880].forEach(function (frequency, i) {
      var start = audio.currentTime + i * 0.35;
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.4, start + 0.03);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.6);
      tone.connect(gain).connect(audio.destination);
      tone.start(start);
      tone.stop(start + 0.65);
    });
  }

  function fill(list, labels, fresh) {
    var items = labels.map(function (label) {
      var li = document.createElement("li");
      li.textContent = label;
      if (fresh && fresh.indexOf(label) !== -1) li.className = "called";
      return li;
    });
    list.replaceChildren.apply(list, items);
  }

  function show(state) {
    var fresh = state.serving.filter(function (label) { return shown.indexOf(label) === -1; });
    fill(serving, state.serving, fresh);
    fill(waiting, state.waiting, null);
    empty.hidden = state.serving.length > 0;
    more.hidden = state.more <= 0;
    moreCount.textContent = String(state.more);
    waitText.textContent = state.wait;
    if (fresh.length) chime();
    shown = state.serving;
  }

  var events = new EventSource(screen.getAttribute("data-events"));
  events.addEventListener("board", function (event) {
    show(JSON.parse(event.data));
  });
})();
