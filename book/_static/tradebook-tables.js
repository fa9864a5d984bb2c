/* tradebook: sortable tables (class "tradebook-triable"). Each column header becomes a
   button; a click sorts the rows by that column, ascending then descending. French
   numbers are read as numbers: narrow no-break spaces, decimal comma, minus sign and
   units (Md€, M€, k€, €, %), so that 1 446,3 M€ sorts above 850,0 k€. */
(function () {
  "use strict";
  var UNITS = [["Md€", 1e9], ["M€", 1e6], ["k€", 1e3], ["€", 1], ["%", 1]];

  function value(text) {
    var t = text.replace(/[\u202f\u00a0 ]/g, "").replace("\u2212", "-").trim();
    if (t === "" || t === "–") return null;
    for (var i = 0; i < UNITS.length; i++) {
      var unit = UNITS[i][0];
      if (t.slice(-unit.length) === unit) {
        var n = parseFloat(t.slice(0, -unit.length).replace(",", "."));
        return isNaN(n) ? t : n * UNITS[i][1];
      }
    }
    var plain = t.replace(",", ".");
    return /^[-+]?\d+(\.\d+)?$/.test(plain) ? parseFloat(plain) : text.trim().toLowerCase();
  }

  function compare(a, b) {
    if (a === null) return b === null ? 0 : 1;
    if (b === null) return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), "fr");
  }

  function sortBy(table, column, header) {
    var body = table.tBodies[0];
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var order = compare(value(r1.cells[column].textContent), value(r2.cells[column].textContent));
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }

  function prepare(table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, column) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "tradebook-tri";
      button.title = "Trier selon cette colonne";
      while (header.firstChild) button.appendChild(header.firstChild);
      header.appendChild(button);
      button.addEventListener("click", function () { sortBy(table, column, header); });
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("table.tradebook-triable"), prepare);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
