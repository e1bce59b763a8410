// The "Analyses" page: poll each unfinished run's status and show its progress; reload
// the page when a run has finished (done or failed) so that its report link shows.
(function () {
  "use strict";
  var boxes = document.querySelectorAll(".run-progress[data-status-url]");
  if (!boxes.length) return;
  function poll(box) {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) {
        if (!state) return;
        var bar = box.querySelector("progress");
        var text = box.querySelector(".run-step");
        bar.value = state.percent;
        bar.textContent = state.percent + "%";
        text.textContent = state.status + ": " + state.step + " (" + state.done + " of " +
          state.total + " steps)";
        if (state.status === "done" || state.status === "failed") {
          window.location.reload();
        } else {
          window.setTimeout(function () { poll(box); }, 1000);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(box); }, 3000); });
  }
  boxes.forEach(function (box) { window.setTimeout(function () { poll(box); }, 500); });
})();
