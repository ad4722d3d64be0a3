// bellhop's staff UI works without this script. With it, the template editor's preview and
// SMS counter follow what is typed: the form is posted to the preview frame (the same
// request the Preview button makes) and the counter asks the server's segmenter.
"use strict";
(function () {
  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function watchPreview(form) {
    var button = form.querySelector("[data-preview-button]");
    var counter = form.querySelector("[data-counter]");
    var refresh = function () {
      if (button) form.requestSubmit(button);
      if (counter) {
        var body = new URLSearchParams(new FormData(form));
        fetch(button.getAttribute("formaction"), {
          method: "POST",
          headers: { "Accept": "application/json", "Content-Type": "application/x-www-form-urlencoded" },
          body: body,
          credentials: "same-origin"
        })
          .then(function (r) { return r.json(); })
          .then(function (answer) {
            counter.textContent = answer.error || answer.summary || "";
            counter.classList.toggle("bad", !!(answer.error || answer.problem));
          })
          .catch(function () {});
      }
    };
    form.addEventListener("input", debounce(refresh, 350));
    form.addEventListener("change", debounce(refresh, 50));
    refresh();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-preview]").forEach(watchPreview);
    document.querySelectorAll("[data-confirm]").forEach(function (el) {
      el.addEventListener("click", function (event) {
        if (!window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  });
})();
