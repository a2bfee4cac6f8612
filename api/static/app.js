// Keyboard shortcuts for the stewards' app. Pages declare their shortcuts with data-key attributes.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-task-row]")); }
  var current = -1;
  function select(i) {
    var all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(all.length - 1, i));
    all.forEach(function (r, j) { r.classList.toggle("mdh-row-selected", j === current); });
    all[current].scrollIntoView({ block: "nearest" });
  }
  document.addEventListener("htmx:afterSwap", function () { current = -1; });
  // One reason box serves both decision forms: copy it into the form being sent.
  document.addEventListener("submit", function (ev) {
    var from = ev.target.getAttribute && ev.target.getAttribute("data-copy-reason");
    if (!from) return;
    var box = document.getElementById(from), field = ev.target.querySelector("[name=reason]");
    if (box && field) field.value = box.value;
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(document.activeElement)) return;
    var key = ev.key;
    if (key === "?") {
      var help = document.getElementById("shortcuts");
      if (help) { help.open = !help.open; ev.preventDefault(); }
      return;
    }
    if (rows().length) {
      if (key === "j") { select(current + 1); ev.preventDefault(); return; }
      if (key === "k") { select(current - 1); ev.preventDefault(); return; }
      if (current >= 0 && (key === "Enter" || key === "o")) {
        var link = rows()[current].querySelector("a[data-open]");
        if (link) { window.location = link.href; ev.preventDefault(); }
        return;
      }
      if (current >= 0 && key === "x") {
        var box = rows()[current].querySelector("input[type=checkbox]");
        if (box) { box.checked = !box.checked; ev.preventDefault(); }
        return;
      }
    }
    var target = document.querySelector("[data-key='" + key + "']");
    if (!target) return;
    ev.preventDefault();
    if (target.tagName === "A") { window.location = target.href; } else { target.click(); }
  });
})();
