// An alliance's memberships as bars from accession to exit (vis-timeline), read from the JSON at
// #timeline's data-src; a membership still held runs to today. One row per member, named in the
// column on the left (never inside a bar, where a short membership would cut its name). The alliance's
// events and exercises (data.events, data.exercises) come first, each in a row of its own: a point
// for one day, a range for several; each item's title gives its label, type and dates.
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
      // the events and the exercises, each kind in a row above the members
      const activities = [
        { id: "~events", name: "Events", list: data.events || [], className: "event" },
        { id: "~exercises", name: "Exercises", list: data.exercises || [], className: "exercise" },
      ].filter((kind) => kind.list.some((x) => x.start));
      activities.forEach((kind, k) => {
        groups.push({ id: kind.id, content: text(kind.name), order: k - activities.length });
        kind.list
          .filter((x) => x.start)
          .forEach((x) => {
            const several = x.end && x.end > x.start;
            items.push({
              id: kind.id + items.length,
              group: kind.id,
              content: text(""),
              start: x.start,
              end: several ? x.end : undefined,
              type: several ? "range" : "point",
              className: kind.className,
              title:
                (x.label || x.iri) +
                (x.type && x.type.label ? " (" + x.type.label + ")" : "") +
                ": " + precise(x.start, x.startPrecision) +
                (several ? " to " + precise(x.end, x.endPrecision) : ""),
            });
          });
      });
      const first = [...dated, ...activities.flatMap((kind) => kind.list.filter((x) => x.start))].reduce(
        (a, m) => (m.start < a ? m.start : a),
        today,
      );
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
