// An alliance's memberships as bars from accession to exit (vis-timeline), read from the JSON at
// #timeline's data-src; a membership still held runs to today.
(function () {
  "use strict";
  const box = document.getElementById("timeline");
  if (!box || typeof vis === "undefined") return;
  const today = new Date().toISOString().slice(0, 10);
  const precise = (date, precision) => (precision ? date + " (to the " + precision + ")" : date);
  fetch(box.dataset.src, { headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.status + " " + r.statusText))))
    .then((data) => {
      const items = data.items
        .filter((m) => m.start)
        .map((m, i) => ({
          id: i,
          content: m.state.label || m.state.id,
          start: m.start,
          end: m.end || today,
          type: "range",
          className: m.end ? "ended" : "ongoing",
          title:
            (m.state.label || m.state.id) +
            (m.role ? ", " + (m.role.label || "") : "") +
            ": " + precise(m.start, m.startPrecision) +
            " to " + (m.end ? precise(m.end, m.endPrecision) : "today"),
        }));
      const timeline = new vis.Timeline(box, new vis.DataSet(items), {
        stack: true,
        orientation: "top",
        zoomable: true,
        margin: { item: { vertical: 2 } },
      });
      timeline.on("changed", () => {
        box.dataset.rendered = String(items.length);
      });
      window.allianceldTimeline = { timeline: timeline, items: items.length };
    })
    .catch((err) => {
      box.dataset.error = String(err);
    });
})();
