// The YASGUI query editor of /sparql: its examples, prefixes and first query come from the page's
// JSON data block (#sparql-editor-data), so that the page runs no inline script.
(() => {
  const data = JSON.parse(document.getElementById("sparql-editor-data").textContent);
  const examples = data.examples;
  const local = data.local || {}; // IRI base -> this server's path for it ("https://w3id.org/allianceld/id/" -> "/id/")
  const DURATIONS = ["duration", "dayTimeDuration", "yearMonthDuration"].map(
    (name) => "http://www.w3.org/2001/XMLSchema#" + name,
  );
  const ISO = /^(-)?P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(\d+(?:\.\d+)?S)?)?$/;
  const UNITS = ["year", "month", "day", "hour", "minute", "second"];
  const yearDays = (years) =>
    years * 365 + Math.floor(years / 4) - Math.floor(years / 100) + Math.floor(years / 400);

  // An xsd:duration in words ("115 years 236 days" for P42238D), as web/durations.py writes it; null if not one.
  const readableDuration = (lexical) => {
    const found = ISO.exec(lexical.trim());
    if (!found) return null;
    let parts = found.slice(2).map((v) => (v === undefined ? null : v.replace(/S$/, "")));
    if (parts.every((v, i) => (i === 2) === (v !== null))) {
      const days = Number(parts[2]);
      let years = Math.floor(days / 365);
      while (years && days < yearDays(years)) years -= 1;
      const left = days - yearDays(years);
      parts = [years ? String(years) : null, null, left || !years ? String(left) : null, null, null, null];
    }
    const present = parts.filter((v) => v !== null).length;
    const words = [];
    parts.forEach((v, i) => {
      if (v === null) return;
      const amount = v.includes(".") ? v.replace(/0+$/, "").replace(/\.$/, "") : String(Number(v));
      if (amount === "0" && present > 1) return;
      words.push(amount + " " + UNITS[i] + (amount === "1" ? "" : "s"));
    });
    return (found[1] ? "minus " : "") + (words.join(" ") || "0 days");
  };

  const localPath = (iri) => {
    for (const [base, path] of Object.entries(local)) if (path && iri.startsWith(base)) return path + iri.slice(base.length);
    return null;
  };

  // The results table: the IRIs this server serves link to its own pages; durations read in words.
  const Table = Yasgui.Yasr.plugins.table;
  class LocalTable extends Table {
    getUriLinkFromBinding(binding, prefixes) {
      const html = super.getUriLinkFromBinding(binding, prefixes); // sanitized by YASR
      const path = localPath(binding.value);
      if (!path) return html;
      const holder = document.createElement("template"); // inert: parsing runs nothing
      holder.innerHTML = html;
      const a = holder.content.querySelector("a");
      if (!a) return html;
      a.setAttribute("href", path);
      a.setAttribute("target", "_self");
      a.removeAttribute("ref");
      a.setAttribute("title", binding.value);
      return holder.innerHTML;
    }

    formatLiteral(binding, prefixes) {
      const readable = DURATIONS.includes(binding.datatype) ? readableDuration(binding.value) : null;
      if (readable === null) return super.formatLiteral(binding, prefixes);
      const span = document.createElement("span");
      span.className = "duration";
      span.title = binding.value;
      span.textContent = readable;
      return span.outerHTML;
    }
  }
  Yasgui.Yasr.registerPlugin("table", LocalTable);

  Yasgui.Yasqe.defaults.autocompleters = ["variables"]; // the prefix autocompleter calls prefix.cc
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: new URL("/sparql", window.location).href, method: "POST" },
    copyEndpointOnNewTab: false,
    persistenceId: null,
    yasqe: { value: examples.length ? examples[0].query : data.query },
  });
  const tab = yasgui.getTab();
  tab.getYasqe().addPrefixes(data.prefixes);
  document.querySelectorAll("button.example").forEach((button) => {
    button.addEventListener("click", () => {
      const ex = examples.find((e) => e.name === button.dataset.name);
      yasgui.getTab().setQuery(ex.query);
    });
  });
  window.allianceldYasgui = yasgui;
  window.allianceldReadableDuration = readableDuration; // for tests: the same words as web/durations.py
  document.getElementById("yasgui").dataset.ready = "1"; // for tests: selectors need no eval under the CSP
})();
