// The booking form, progressively enhanced: the page works without this file.
// - After a reload, focus what changed (the preview, or the error summary):
//   `autofocus` does it in most browsers, but not when the URL names a
//   fragment (#preview-results), and screen readers should land there too.
// - Show "how many times / until" only when a repetition is chosen.
(function () {
  "use strict";

  function focusWhatChanged() {
    var target = document.querySelector("[data-focus-on-load]");
    if (!target || document.activeElement === target) {
      return;
    }
    target.focus({ preventScroll: true });
    target.scrollIntoView({ block: "start" });
  }

  function toggleRepetitionEnd() {
    var repeat = document.getElementById("repeat");
    if (!repeat) {
      return;
    }
    var ends = ["count", "until"].map(function (id) {
      var input = document.getElementById(id);
      return input && input.closest(".field");
    }).filter(Boolean);
    var advanced = document.querySelector("details.advanced-rule");
    function update() {
      // A custom rule is written in the advanced field, and carries its own end.
      var none = repeat.value === "none" || repeat.value === "custom";
      if (repeat.value === "custom" && advanced) {
        advanced.open = true;
      }
      ends.forEach(function (field) {
        // Keep a field with an error (or a value) in view: it needs reading.
        var input = field.querySelector("input");
        field.hidden = none && !field.classList.contains("has-error") && !input.value;
      });
    }
    repeat.addEventListener("change", update);
    update();
  }

  focusWhatChanged();
  toggleRepetitionEnd();
})();
