// The dashboard's little JavaScript: line charts of at_step metrics (uPlot, vendored) and live status polling.
(function () {
  "use strict";
  function charts() {
    var source = document.getElementById("chart-data");
    if (!source || typeof uPlot === "undefined") { return; }
    var series = JSON.parse(source.textContent);
    series.forEach(function (one, i) {
      var target = document.getElementById("chart-" + i);
      if (!target) { return; }
      var options = {
        title: one.key, width: 420, height: 240,
        scales: { x: { time: false } },
        axes: [{ label: "step" }, {}],
        series: [{ label: "step" }, { label: one.key, stroke: "#2456b3", width: 2, points: { show: true } }]
      };
      target.setAttribute("data-points", String(one.x.length));
      new uPlot(options, [one.x, one.y], target);
    });
  }
  function poll() {
    var live = document.querySelector("[data-poll]");
    if (!live) { return; }
    var url = live.getAttribute("data-poll");
    var timer = setInterval(function () {
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (state) {
        if (["running", "pending", "started"].indexOf(state.status) < 0) { clearInterval(timer); window.location.reload(); }
      }).catch(function () {});
    }, 2000);
  }
  document.addEventListener("DOMContentLoaded", function () { charts(); poll(); });
})();
