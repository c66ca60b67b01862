// The query editor: CodeMirror over the plain textarea (the form works without it),
// completion of the project's prefixes and the ontology's classes and properties, and
// the syntax error's position marked in the text.
(function () {
  "use strict";
  var textarea = document.getElementById("query-text");
  if (!textarea || typeof CodeMirror === "undefined") { return; }

  var vocabulary = { prefixes: {}, classes: [], properties: [] };
  var editor = CodeMirror.fromTextArea(textarea, {
    mode: "application/sparql-query",
    lineNumbers: true,
    matchBrackets: true,
    viewportMargin: Infinity,
    extraKeys: {
      "Ctrl-Space": "autocomplete",
      "Ctrl-Enter": function () { submit(); },
      "Cmd-Enter": function () { submit(); },
      // Tab leaves the editor, so that keyboard users are never trapped in it.
      "Tab": false,
      "Shift-Tab": false
    }
  });
  editor.getWrapperElement().setAttribute("aria-label", "SPARQL query editor");

  function submit() {
    editor.save();
    var form = document.getElementById("query-form");
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  var errorLine = parseInt(textarea.getAttribute("data-error-line"), 10);
  if (errorLine > 0) {
    var errorColumn = parseInt(textarea.getAttribute("data-error-column"), 10) || 1;
    editor.addLineClass(errorLine - 1, "background", "error-line");
    var from = { line: errorLine - 1, ch: errorColumn - 1 };
    editor.markText(from, { line: errorLine - 1, ch: errorColumn }, { className: "error-mark" });
    editor.setCursor(from);
  }

  fetch(textarea.getAttribute("data-vocabulary"), { headers: { Accept: "application/json" } })
    .then(function (response) { return response.ok ? response.json() : vocabulary; })
    .then(function (data) { vocabulary = data; })
    .catch(function () { /* completion then offers the keywords only */ });

  // Prefixes declared in the query itself, plus the project's.
  function declaredPrefixes() {
    var table = {};
    Object.keys(vocabulary.prefixes).forEach(function (p) { table[p] = vocabulary.prefixes[p]; });
    var re = /PREFIX\s+([A-Za-z][\w-]*)?:\s*<([^>]*)>/gi, match;
    var text = editor.getValue();
    while ((match = re.exec(text)) !== null) { table[match[1] || ""] = match[2]; }
    return table;
  }

  function curie(iri, prefixes) {
    var best = null;
    Object.keys(prefixes).forEach(function (p) {
      var ns = prefixes[p];
      if (iri.indexOf(ns) === 0 && (!best || ns.length > prefixes[best].length)) { best = p; }
    });
    return best === null ? "<" + iri + ">" : best + ":" + iri.slice(prefixes[best].length);
  }

  var KEYWORDS = ["SELECT", "DISTINCT", "WHERE", "OPTIONAL", "FILTER", "GRAPH", "UNION",
    "ORDER BY", "GROUP BY", "LIMIT", "OFFSET", "PREFIX", "ASK", "CONSTRUCT", "DESCRIBE",
    "VALUES", "BIND", "MINUS", "NOT EXISTS", "COUNT", "STR", "LANG", "REGEX", "a"];

  CodeMirror.registerHelper("hint", "sparql", function (cm) {
    var cursor = cm.getCursor(), line = cm.getLine(cursor.line);
    var start = cursor.ch;
    while (start > 0 && /[\w:\-.]/.test(line.charAt(start - 1))) { start -= 1; }
    var word = line.slice(start, cursor.ch);
    var prefixes = declaredPrefixes();
    var lineStart = line.slice(0, start);
    var list = [];
    if (/^\s*PREFIX\s*$/i.test(lineStart)) {
      Object.keys(vocabulary.prefixes).forEach(function (p) {
        list.push({ text: p + ": <" + vocabulary.prefixes[p] + ">", displayText: p + ":  " + vocabulary.prefixes[p] });
      });
    } else {
      vocabulary.classes.forEach(function (iri) {
        list.push({ text: curie(iri, prefixes), displayText: curie(iri, prefixes) + "  (class)" });
      });
      vocabulary.properties.forEach(function (iri) {
        list.push({ text: curie(iri, prefixes), displayText: curie(iri, prefixes) + "  (property)" });
      });
      KEYWORDS.forEach(function (k) { list.push({ text: k, displayText: k }); });
    }
    var needle = word.toLowerCase();
    var found = list.filter(function (item) {
      return item.text.toLowerCase().indexOf(needle) === 0 ||
        (needle.indexOf(":") < 0 && item.text.toLowerCase().indexOf(":" + needle) > 0);
    });
    return { list: found, from: CodeMirror.Pos(cursor.line, start), to: CodeMirror.Pos(cursor.line, cursor.ch) };
  });
  editor.setOption("hintOptions", { hint: CodeMirror.hint.sparql, completeSingle: false });
}());
