/* The signature pad of the attendance pages (templates/attendance/_signature.html):
   shows the canvas, records the strokes drawn with a finger, a pen or the mouse
   (pointer events), and writes them as SVG path data ("M x y L x y ...", in the
   canvas's 600 × 200 box, one decimal) into the form's hidden "signature" field,
   which the server validates. Without this script the typed name is used. */
(function () {
  "use strict";
  var MAX_LENGTH = 19000; // the server takes 20,000 characters

  function setUp(pad) {
    var form = pad.closest("form");
    var field = form.querySelector("input[name='signature']");
    var canvas = pad.querySelector("canvas");
    var clear = pad.querySelector(".signature-clear");
    var context = canvas.getContext("2d");
    var path = [];
    var drawing = false;
    var last = null;

    pad.hidden = false;
    context.lineWidth = 3;
    context.lineCap = "round";
    context.lineJoin = "round";
    context.strokeStyle = "#111";

    function point(event) {
      var box = canvas.getBoundingClientRect();
      var x = (event.clientX - box.left) * canvas.width / box.width;
      var y = (event.clientY - box.top) * canvas.height / box.height;
      x = Math.min(canvas.width, Math.max(0, x));
      y = Math.min(canvas.height, Math.max(0, y));
      return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
    }

    function write() {
      var text = path.join(" ");
      field.value = text.length <= MAX_LENGTH ? text : "";
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      drawing = true;
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
      last = point(event);
      path.push("M " + last[0] + " " + last[1]);
      context.beginPath();
      context.moveTo(last[0], last[1]);
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      event.preventDefault();
      var next = point(event);
      if (Math.abs(next[0] - last[0]) + Math.abs(next[1] - last[1]) < 2) { return; }
      path.push("L " + next[0] + " " + next[1]);
      context.lineTo(next[0], next[1]);
      context.stroke();
      last = next;
      write();
    });
    function stop() {
      if (!drawing) { return; }
      drawing = false;
      // A dot (no move): a tiny stroke, so that it shows and counts.
      if (path.length && path[path.length - 1].charAt(0) === "M") {
        path.push("L " + Math.min(canvas.width, last[0] + 1) + " " + last[1]);
      }
      write();
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    canvas.addEventListener("pointerleave", stop);
    clear.addEventListener("click", function () {
      path = [];
      field.value = "";
      context.clearRect(0, 0, canvas.width, canvas.height);
    });
  }

  document.querySelectorAll("[data-signature]").forEach(setUp);
}());
