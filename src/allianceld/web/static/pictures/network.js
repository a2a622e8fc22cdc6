// The network of states linked by shared alliances on a day, drawn by cytoscape.js from the JSON at
// #network's data-src; the slider and the date field choose the day (fetched again on change).
(function () {
  "use strict";
  const box = document.getElementById("network");
  if (!box || typeof cytoscape === "undefined") return;
  const dayInput = document.getElementById("network-day");
  const slider = document.getElementById("network-slider");
  const DAY_MS = 86400000;
  const toDays = (iso) => Math.floor(Date.parse(iso + "T00:00:00Z") / DAY_MS);
  const toIso = (days) => new Date(days * DAY_MS).toISOString().slice(0, 10);
  const ego = box.dataset.ego || null;
  const cy = cytoscape({
    container: box,
    style: [
      { selector: "node", style: { label: "data(label)", "font-size": 9, width: 14, height: 14, "background-color": "#4e79a7" } },
      { selector: "node.ego", style: { "background-color": "#e15759", width: 22, height: 22 } },
      { selector: "edge", style: { width: "mapData(weight, 1, 4, 1, 5)", "line-color": "#9fb3c8", opacity: 0.7 } },
    ],
  });
  let asked = 0;

  function url(day) {
    const u = new URL(box.dataset.src, window.location.href);
    if (day) u.searchParams.set("date", day);
    return u;
  }

  function draw(data) {
    const nodes = data.nodes.map((n) => ({
      group: "nodes",
      data: { id: n.id, label: n.label || n.id, url: n.url },
      classes: n.id === ego ? "ego" : "",
    }));
    const named = {};
    data.alliances.forEach((a) => {
      named[a.id] = a.label || a.id;
    });
    const edges = data.edges.map((e) => ({
      group: "edges",
      data: {
        id: e.source + "~" + e.target,
        source: e.source,
        target: e.target,
        weight: e.alliances.length,
        alliances: e.alliances.map((id) => named[id] || id).join(", "),
      },
    }));
    cy.batch(() => {
      cy.elements().remove();
      cy.add(nodes.concat(edges));
    });
    cy.layout({ name: nodes.length > 60 ? "circle" : "cose", animate: false, randomize: false }).run();
    document.getElementById("network-nodes").textContent = String(data.nodes.length);
    document.getElementById("network-edges").textContent = String(data.edges.length);
    document.getElementById("network-shown").textContent = data.date;
    box.dataset.rendered = data.date;
    box.dataset.nodes = String(cy.nodes().length);
    box.dataset.edges = String(cy.edges().length);
  }

  function load(day) {
    const mine = ++asked;
    box.setAttribute("aria-busy", "true");
    return fetch(url(day), { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(r.status + " " + r.statusText))))
      .then((data) => {
        if (mine !== asked) return; // a later day was asked for meanwhile
        if (dayInput) {
          dayInput.min = data.range.first;
          dayInput.max = data.range.last;
          dayInput.value = data.date;
        }
        if (slider) {
          slider.min = String(toDays(data.range.first));
          slider.max = String(toDays(data.range.last));
          slider.value = String(toDays(data.date));
          slider.hidden = false;
        }
        draw(data);
        box.removeAttribute("aria-busy");
      })
      .catch((err) => {
        box.dataset.error = String(err);
        box.removeAttribute("aria-busy");
      });
  }

  cy.on("tap", "node", (evt) => {
    const target = evt.target.data("url");
    if (target) window.location.href = target;
  });
  cy.on("mouseover", "edge", (evt) => {
    box.title = evt.target.data("alliances");
  });
  let timer = null;
  if (slider) {
    slider.addEventListener("input", () => {
      const day = toIso(Number(slider.value));
      if (dayInput) dayInput.value = day;
      clearTimeout(timer);
      timer = setTimeout(() => load(day), 150);
    });
  }
  if (dayInput) {
    dayInput.addEventListener("change", () => {
      if (dayInput.value) load(dayInput.value);
    });
  }
  window.allianceldNetwork = { cy: cy, load: load };
  load(box.dataset.date || null);
})();
