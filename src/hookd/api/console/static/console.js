// The console's own behaviour, kept small: the theme toggle, copy buttons, and moving focus
// to content htmx swapped in. Everything works without it; it only adds comfort.
(function () {
  "use strict";
  var THEMES = ["auto", "light", "dark"];
  var LABELS = { auto: "Theme: system", light: "Theme: light", dark: "Theme: dark" };

  function currentTheme() {
    var theme = document.documentElement.getAttribute("data-theme");
    return theme === "light" || theme === "dark" ? theme : "auto";
  }

  function showTheme(button) {
    var theme = currentTheme();
    button.textContent = LABELS[theme];
    button.setAttribute("data-current", theme);
  }

  function setTheme(theme) {
    try {
      if (theme === "auto") {
        window.localStorage.removeItem("hookd-theme");
      } else {
        window.localStorage.setItem("hookd-theme", theme);
      }
    } catch (e) {
      // Storage blocked: the choice lasts for this page only.
    }
    if (theme === "auto") {
      document.documentElement.removeAttribute("data-theme");
    } else {
      document.documentElement.setAttribute("data-theme", theme);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var toggle = document.getElementById("theme-toggle");
    if (toggle) {
      showTheme(toggle);
      toggle.addEventListener("click", function () {
        var next = THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length];
        setTheme(next);
        showTheme(toggle);
      });
    }
  });

  // Copy buttons: <button data-copy="#id-of-element">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy]") : null;
    if (!button || !navigator.clipboard) {
      return;
    }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (source) {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
      });
    }
  });

  // After htmx swaps content in, move focus to it when it asks (data-focus), so keyboard and
  // screen-reader users land on what appeared.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    var focus = target && target.querySelector ? target.querySelector("[data-focus]") : null;
    if (focus) {
      focus.focus();
    }
  });
})();
