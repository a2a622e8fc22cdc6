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
      // a label that would overlap one already shown is hidden, and shown while the pointer is on it
      { selector: "node.nolabel", style: { label: "" } },
      { selector: "node.nolabel.hover", style: { label: "data(label)", "z-index": 10, "text-background-color": "#fff", "text-background-opacity": 0.9 } },
    ],
  });
  let asked = 0;

  const obligation = document.getElementById("network-obligation");

  function url(day) {
    const u = new URL(box.dataset.src, window.location.href);
    if (day) u.searchParams.set("date", day);
    if (obligation) u.searchParams.set("obligation", obligation.value);
    return u;
  }

  // a state's allies around it; a network of up to 150 states by forces (cose); a larger one in
  // rings, the states in most alliances at the centre
  function layoutFor(count) {
    if (ego) return { name: "concentric", animate: false, concentric: (n) => (n.hasClass("ego") ? 2 : 1), levelWidth: () => 1 };
    if (count <= 150) return { name: "cose", animate: false, randomize: false };
    return { name: "concentric", animate: false, concentric: (n) => n.degree(), levelWidth: (ns) => Math.max(1, ns.maxDegree() / 6) };
  }

  // shows the labels of the states in most links first, hides each one whose box would overlap a
  // label already shown (it appears on hover): no two labels shown overlap, at any zoom
  function declutter() {
    cy.nodes().removeClass("nolabel");
    const order = cy.nodes().sort(
      (a, b) => Number(b.hasClass("ego")) - Number(a.hasClass("ego")) || b.degree() - a.degree() || (a.id() < b.id() ? -1 : 1),
    );
    const shown = [];
    const boxes = { includeNodes: false, includeEdges: false, includeLabels: true, includeOverlays: false };
    order.forEach((n) => {
      const b = n.boundingBox(boxes);
      if (shown.some((o) => b.x1 < o.x2 && o.x1 < b.x2 && b.y1 < o.y2 && o.y1 < b.y2)) n.addClass("nolabel");
      else shown.push(b);
    });
    box.dataset.labels = String(shown.length);
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
    cy.layout(layoutFor(nodes.length)).run();
    declutter();
    document.getElementById("network-nodes").textContent = String(data.nodes.length);
    document.getElementById("network-edges").textContent = String(data.edges.length);
    document.getElementById("network-shown").textContent = data.date;
    showDay(data);
    box.dataset.obligation = data.obligation;
    box.dataset.rendered = data.date;
    box.dataset.nodes = String(cy.nodes().length);
    box.dataset.edges = String(cy.edges().length);
  }

  // the page's table, heading, JSON link and address follow the day drawn (a state page's network
  // has no table: its link to the network page follows instead)
  function link(parent, href, text) {
    // this site's paths and http(s) only, as the server's pages link (never javascript: or data:)
    const safe = typeof href === "string" && (/^\/(?!\/)/.test(href) || /^https?:\/\//i.test(href));
    const a = document.createElement(safe ? "a" : "span");
    if (safe) a.href = href;
    a.textContent = text;
    parent.appendChild(a);
  }

  function showDay(data) {
    const heading = document.getElementById("network-table-date");
    if (heading) heading.textContent = data.date;
    const table = document.getElementById("network-table");
    const shown = data.date + " " + data.obligation;
    if (table && table.dataset.shown !== shown) {
      table.dataset.shown = shown;
      const rows = table.querySelectorAll("tr");
      for (let i = 1; i < rows.length; i++) rows[i].remove();
      const body = rows[0].parentNode;
      const byId = {};
      data.nodes.forEach((n) => {
        byId[n.id] = n;
      });
      const alliances = {};
      data.alliances.forEach((a) => {
        alliances[a.id] = a;
      });
      const limit = Number(table.dataset.limit || data.edges.length);
      data.edges.slice(0, limit).forEach((e) => {
        const tr = document.createElement("tr");
        [e.source, e.target].forEach((id) => {
          const td = document.createElement("td");
          link(td, byId[id] && byId[id].url, (byId[id] && byId[id].label) || id);
          tr.appendChild(td);
        });
        const td = document.createElement("td");
        e.alliances.forEach((id, i) => {
          if (i) td.appendChild(document.createTextNode(", "));
          link(td, alliances[id] && alliances[id].url, (alliances[id] && alliances[id].label) || id);
        });
        tr.appendChild(td);
        body.appendChild(tr);
      });
      const alone = document.getElementById("network-alone");
      if (alone) alone.hidden = true; // listed for the day the page was served only
    }
    const json = document.getElementById("network-json");
    if (json) json.href = url(data.date).pathname + url(data.date).search;
    const page = document.getElementById("ego-network-page");
    if (page) {
      const u = new URL(page.getAttribute("href"), window.location.href);
      u.searchParams.set("date", data.date);
      u.searchParams.set("obligation", data.obligation);
      page.href = u.pathname + u.search;
    }
    if (box.dataset.followUrl !== undefined) {
      const here = new URL(window.location.href);
      if (here.searchParams.get("date") !== data.date || here.searchParams.get("obligation") !== data.obligation) {
        here.searchParams.set("date", data.date);
        here.searchParams.set("obligation", data.obligation);
        window.history.replaceState(null, "", here.pathname + here.search + here.hash);
      }
    }
  }

  function fetchJson(address) {
    return fetch(address, { headers: { Accept: "application/json" } }).then((r) =>
      r.ok ? r.json() : Promise.reject(new Error(r.status + " " + r.statusText))
    );
  }

  // the JSON gives its edges a page at a time (links.next): follow the pages, edges in order
  function fetchAll(address, edges) {
    return fetchJson(address).then((data) => {
      const all = (edges || []).concat(data.edges);
      if (data.links && data.links.next) return fetchAll(data.links.next, all);
      data.edges = all;
      return data;
    });
  }

  function load(day) {
    const mine = ++asked;
    box.setAttribute("aria-busy", "true");
    return fetchAll(url(day))
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
  cy.on("mouseover", "node", (evt) => evt.target.addClass("hover"));
  cy.on("mouseout", "node", (evt) => evt.target.removeClass("hover"));
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
  if (obligation) {
    obligation.addEventListener("change", () => load(dayInput && dayInput.value ? dayInput.value : box.dataset.rendered));
  }
  if (dayInput) {
    dayInput.addEventListener("change", () => {
      if (dayInput.value) load(dayInput.value);
    });
  }
  window.allianceldNetwork = { cy: cy, load: load };
  load(box.dataset.date || null);
})();
