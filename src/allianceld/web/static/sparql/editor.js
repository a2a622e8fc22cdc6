// The YASGUI query editor of /sparql: its examples, prefixes and first query come from the page's
// JSON data block (#sparql-editor-data), so that the page runs no inline script.
(() => {
  const data = JSON.parse(document.getElementById("sparql-editor-data").textContent);
  const examples = data.examples;
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
  document.getElementById("yasgui").dataset.ready = "1"; // for tests: selectors need no eval under the CSP
})();
