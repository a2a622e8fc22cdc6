// An alliance's memberships as bars from accession to exit (vis-timeline), read from the JSON at
// #timeline's data-src; a membership still held runs to today. One row per member, named in the
// column on the left (never inside a bar, where a short membership would cut its name).
(function () {
  "use strict";
  const box = document.getElementById("timeline");
  if (!box || typeof vis === "undefined") return;
  const today = new Date().toISOString().slice(0, 10);
  const precise = (date, precision) => (precision ? date + " (to the " + precision + ")" : date);
  const text = (value) => {
    const span = document.createElement("span");
    span.textContent = value; // a label is text, never markup
    return span;
  };
  fetch(box.dataset.src, { headers: { Accept: "application/json" } })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.status + " " + r.statusText))))
    .then((data) => {
      const dated = data.items.filter((m) => m.start);
      const groups = [];
      const seen = {};
      dated.forEach((m) => {
        if (!(m.state.id in seen)) {
          seen[m.state.id] = groups.length;
          groups.push({ id: m.state.id, content: text(m.state.label || m.state.id), order: groups.length });
        }
      });
      const items = dated.map((m, i) => {
        const name = m.state.label || m.state.id;
        return {
          id: i,
          group: m.state.id,
          content: text(""),
          start: m.start,
          end: m.end || today,
          type: "range",
          className: m.end ? "ended" : "ongoing",
          title:
            name +
            (m.role ? ", " + (m.role.label || "") : "") +
            ": " + precise(m.start, m.startPrecision) +
            " to " + (m.end ? precise(m.end, m.endPrecision) : "today"),
        };
      });
      const first = dated.reduce((a, m) => (m.start < a ? m.start : a), today);
      const pad = Math.max(86400000 * 180, (Date.parse(today) - Date.parse(first)) * 0.03);
      const timeline = new vis.Timeline(box, new vis.DataSet(items), new vis.DataSet(groups), {
        stack: false,
        orientation: "top",
        zoomable: true,
        groupOrder: "order",
        start: new Date(Date.parse(first) - pad),
        end: new Date(Date.parse(today) + pad),
        margin: { item: { vertical: 2 } },
      });
      timeline.on("changed", () => {
        // drawn once every member's row has its name (the first redraws come before the rows)
        if (box.querySelectorAll(".vis-labelset .vis-label .vis-inner span").length >= groups.length) {
          box.dataset.rendered = String(items.length);
        }
      });
      window.allianceldTimeline = { timeline: timeline, items: items.length };
    })
    .catch((err) => {
      box.dataset.error = String(err);
    });
})();
