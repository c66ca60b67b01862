// The neighbourhood network: data from the page's JSON endpoint (never inline), drawn
// with cytoscape.js; a node opens its page on double-click or Enter.
(function () {
  "use strict";
  var container = document.getElementById("network");
  if (!container || typeof cytoscape === "undefined") { return; }
  fetch(container.getAttribute("data-source"), { headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status); }
      return response.json();
    })
    .then(function (data) {
      var elements = data.nodes.map(function (n) {
        return { data: { id: n.id, label: n.label, href: n.href, kind: n.kind,
                         focus: n.id === data.focus ? "yes" : "no" } };
      }).concat(data.edges.map(function (e) {
        return { data: { id: e.id, source: e.source, target: e.target, label: e.label } };
      }));
      var cy = cytoscape({
        container: container,
        elements: elements,
        style: [
          { selector: "node", style: {
            "label": "data(label)", "font-size": 11, "text-wrap": "wrap", "text-max-width": 120,
            "background-color": "#4a6fa5", "color": "#1b1b1b", "width": 18, "height": 18,
            "text-valign": "bottom", "text-margin-y": 4 } },
          { selector: "node[kind = 'term']", style: { "background-color": "#9a7b2f", "shape": "round-rectangle" } },
          { selector: "node[focus = 'yes']", style: { "background-color": "#b03a2e", "width": 28, "height": 28, "font-weight": "bold" } },
          { selector: "node:selected", style: { "border-width": 3, "border-color": "#111" } },
          { selector: "edge", style: {
            "label": "data(label)", "font-size": 9, "color": "#555", "curve-style": "bezier",
            "target-arrow-shape": "triangle", "width": 1.2, "line-color": "#aab",
            "target-arrow-color": "#aab", "text-rotation": "autorotate" } }
        ],
        layout: { name: "cose", animate: false, randomize: false, nodeRepulsion: 9000, idealEdgeLength: 90 }
      });
      function open(node) {
        var href = node.data("href");
        if (href) { window.location.assign(href); }
      }
      cy.on("dbltap", "node", function (event) { open(event.target); });
      container.setAttribute("tabindex", "0");
      container.addEventListener("keydown", function (event) {
        var selected = cy.$("node:selected");
        if (event.key === "Enter" && selected.length === 1) { open(selected[0]); }
      });
      container.setAttribute("data-ready", "true");
    })
    .catch(function (error) {
      container.textContent = "The network could not be drawn (" + error.message + "); the table below lists the statements.";
    });
}());
