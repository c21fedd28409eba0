// Applies the colour theme the visitor chose (light, dark, or the system's when unset) before
// the page is painted. Loaded in <head>; console.js wires the toggle button.
(function () {
  "use strict";
  try {
    var chosen = window.localStorage.getItem("hookd-theme");
    if (chosen === "light" || chosen === "dark") {
      document.documentElement.setAttribute("data-theme", chosen);
    }
  } catch (e) {
    // Storage may be blocked: the system's theme applies.
  }
})();
