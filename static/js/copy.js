/*
 * "Copy link" buttons, as progressive enhancement: the page renders each
 * button hidden, next to a read-only input holding the link; this script
 * shows the buttons it can wire. Without JavaScript the link is still there
 * to select and copy by hand.
 *
 *   <input id="feed-url-3" value="https://…" readonly data-select-on-focus>
 *   <button data-copy="feed-url-3" data-copy-status="feed-status-3"
 *     data-copied="Link copied." data-copy-failed="…" hidden>Copy link</button>
 *   <p id="feed-status-3" role="status" aria-live="polite"></p>
 */
(function () {
  "use strict";

  function copyBySelection(input) {
    input.focus();
    input.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function wire(button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input) {
      return;
    }
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    function report(ok) {
      if (status) {
        status.textContent = button.getAttribute(ok ? "data-copied" : "data-copy-failed") || "";
      }
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(
          function () { report(true); },
          function () { report(copyBySelection(input)); }
        );
      } else {
        report(copyBySelection(input));
      }
    });
  }

  document.querySelectorAll("button[data-copy]").forEach(wire);
  // Selecting the whole link on focus makes a manual copy a single keystroke.
  document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
}());
