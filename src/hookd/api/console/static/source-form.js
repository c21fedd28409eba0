// The source form: a provider field that applies only with some value of another field
// (data-when="config.auth" data-when-values="hmac basic") is hidden while it does not apply.
// Without JavaScript every field shows, with a hint saying when it is used.
(function () {
  "use strict";
  function update(root) {
    var fields = root.querySelectorAll("[data-when]");
    for (var i = 0; i < fields.length; i++) {
      var field = fields[i];
      var control = root.querySelector('[name="' + field.getAttribute("data-when") + '"]');
      if (!control) {
        continue;
      }
      var values = field.getAttribute("data-when-values").split(" ");
      field.hidden = values.indexOf(control.value) === -1;
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    update(document);
  });
  document.addEventListener("change", function () {
    update(document);
  });
  document.addEventListener("htmx:afterSwap", function () {
    update(document);
  });
})();
