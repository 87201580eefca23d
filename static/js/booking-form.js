// The booking form, progressively enhanced: the page works without this file.
// - After a reload, focus what changed (the preview, or the error summary):
//   `autofocus` does it in most browsers, but not when the URL names a
//   fragment (#preview-results), and screen readers should land there too.
// - Show "how many times / until" only when a repetition is chosen.
// - The other machines of a session are those of the chosen equipment's
//   establishment: hidden (and unticked) when another establishment's
//   equipment is chosen, the chosen machine itself never offered.
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

  function followTheEquipment() {
    var machines = document.querySelector("[data-establishment-machines]");
    var equipment = document.getElementById("equipment");
    if (!machines || !equipment) {
      return;
    }
    var site = machines.getAttribute("data-establishment-machines").split(" ");
    function update() {
      var same = site.indexOf(equipment.value) !== -1;
      machines.hidden = !same;
      machines.querySelectorAll("input[type=checkbox]").forEach(function (box) {
        var item = box.closest("li");
        var itself = box.value === equipment.value;
        if (!same || itself) {
          box.checked = false;
        }
        if (item) {
          item.hidden = itself;
        }
      });
    }
    equipment.addEventListener("change", update);
    update();
  }

  focusWhatChanged();
  toggleRepetitionEnd();
  followTheEquipment();
})();
