/*
 * The calendars as a workspace, as progressive enhancement over the
 * server-rendered grids ([data-calendar]: the machine page's day and week,
 * the site's day). Without JavaScript every free start and every booking is
 * a plain link (the booking form, the booking's page).
 *
 * - One Tab stop per grid (a roving tabindex): the arrow keys move between
 *   the cells and bookings that carry data-x/data-y (and data-w/data-h),
 *   Home/End to the first/last of the lane; Enter follows the link (a free
 *   cell opens the booking form at that start).
 * - A booking with data-booking opens the detail panel (#booking-panel),
 *   filled from its data-* attributes; its actions are the links the server
 *   gave (data-show, data-move, data-cancel: only those the reader may take).
 * - Dragging over free cells of one lane opens the booking form with that
 *   start and end (bookings.new, the same route and rules as the form).
 *   On the site's day (data-axis "x"), dragging across rows, or Shift with
 *   the up and down arrows, spreads the range over several machines: the
 *   form opens with the first machine and the others ticked (equipment_ids),
 *   one session over them all. A machine not free over the whole range is
 *   left out of the selection.
 * - Dragging a booking that carries data-move (or its bottom edge, to
 *   resize) submits the booking page's own move form (#cal-move-form) to its
 *   move route: the same service call, the same refusals, nothing written on
 *   a refusal (the move page then shows why).
 *
 * data-axis says which way time runs: "y" (the week: rows are times, x the
 * day) or "x" (the site's day: columns are times, y the machine).
 */
(function () {
  "use strict";

  function num(el, name, fallback) {
    var value = parseInt(el.getAttribute("data-" + name), 10);
    return isNaN(value) ? fallback : value;
  }

  function box(el) {
    return { el: el, x: num(el, "x", 1), y: num(el, "y", 1), w: num(el, "w", 1), h: num(el, "h", 1) };
  }

  function minutes(text) {
    var parts = (text || "").split(":");
    return parseInt(parts[0], 10) * 60 + parseInt(parts[1], 10);
  }

  function clock(total) {
    var h = Math.floor(total / 60);
    var m = total % 60;
    return (h < 10 ? "0" : "") + h + ":" + (m < 10 ? "0" : "") + m;
  }

  function addDays(iso, days) {
    var d = new Date(iso + "T12:00:00Z");
    d.setUTCDate(d.getUTCDate() + days);
    return d.toISOString().slice(0, 10);
  }

  /* ------------------------------------------- ranges over free cells */
  function laneOf(el) {
    return el.getAttribute("data-lane") + "|" + el.getAttribute("data-date");
  }

  // The free cells of a lane from `from` to `to` (minutes), or null when
  // something busy lies between.
  function runIn(grid, lane, from, to) {
    var inLane = Array.prototype.filter.call(grid.querySelectorAll("[data-free]"), function (c) {
      return laneOf(c) === lane && minutes(c.getAttribute("data-from")) >= from &&
        minutes(c.getAttribute("data-to")) <= to;
    });
    inLane.sort(function (p, q) {
      return minutes(p.getAttribute("data-from")) - minutes(q.getAttribute("data-from"));
    });
    var at = from;
    for (var i = 0; i < inLane.length; i += 1) {
      if (minutes(inLane[i].getAttribute("data-from")) !== at) {
        return null;
      }
      at = minutes(inLane[i].getAttribute("data-to"));
    }
    return at === to && inLane.length ? { cells: inLane, from: from, to: to } : null;
  }

  // The rows (data-y) from `first` to `last` of the site's day, each with its
  // machine's run over from–to: those free all along, the anchor's row first.
  function acrossRows(grid, anchor, first, last, from, to) {
    var lanes = {};
    Array.prototype.forEach.call(grid.querySelectorAll("[data-free]"), function (c) {
      var y = num(c, "y", 0);
      if (y >= first && y <= last && c.getAttribute("data-date") === anchor.getAttribute("data-date")) {
        lanes[y] = laneOf(c);
      }
    });
    var own = runIn(grid, laneOf(anchor), from, to);
    if (!own) {
      return null;
    }
    var range = { cells: own.cells.slice(), from: from, to: to, others: [] };
    Object.keys(lanes).map(Number).sort(function (a, b) { return a - b; }).forEach(function (y) {
      var run = lanes[y] === laneOf(anchor) ? null : runIn(grid, lanes[y], from, to);
      if (run) {
        range.cells = range.cells.concat(run.cells);
        range.others.push(run.cells[0].getAttribute("data-equipment"));
      }
    });
    return range;
  }

  // The booking form's address for a range: the anchor's machine first (the
  // machine page's cells name theirs on the grid).
  function formUrl(grid, base, anchor, range) {
    var url = new URL(base, window.location.href);
    url.searchParams.set("equipment", anchor.getAttribute("data-equipment") ||
                         grid.getAttribute("data-equipment"));
    url.searchParams.set("date", anchor.getAttribute("data-date"));
    url.searchParams.set("start", clock(range.from));
    url.searchParams.set("end", clock(range.to));
    url.searchParams.delete("equipment_ids");
    (range.others || []).forEach(function (id) {
      url.searchParams.append("equipment_ids", id);
    });
    return url.toString();
  }

  function announce(grid, range) {
    var status = document.getElementById("cal-status");
    if (!status || !range) {
      return;
    }
    var text = clock(range.from) + "–" + clock(range.to);
    var several = grid.getAttribute("data-selected-machines");
    if (several && range.others && range.others.length) {
      var names = [range.cells[0].getAttribute("data-equipment")].concat(range.others)
        .map(function (id) {
          var row = grid.querySelector('.site-row[data-machine="' + id + '"]');
          return row ? row.getAttribute("data-name") : id;
        });
      status.textContent = several.replace("{range}", text).replace("{machines}", names.join(", "));
    } else {
      status.textContent = (status.getAttribute("data-selected") || "").replace("{range}", text);
    }
  }

  /* ---------------------------------------------------- roving tabindex */
  function roving(grid) {
    var cells = Array.prototype.map.call(
      grid.querySelectorAll("a[data-x], button[data-x]"), box);
    if (!cells.length) {
      return;
    }
    var scroller = grid.closest(".cal-scroll");
    if (scroller && scroller.getAttribute("tabindex") === "0") {
      // The grid is the Tab stop now; focusing a cell scrolls it into view.
      scroller.removeAttribute("tabindex");
    }
    // Start on the first day's (or machine's) earliest cell, not on a header.
    var current = cells.slice().sort(function (a, b) {
      return ((a.y < 1) - (b.y < 1)) || (a.x - b.x) || (a.y - b.y);
    })[0];
    cells.forEach(function (c) {
      c.el.setAttribute("tabindex", "-1");
    });
    current.el.setAttribute("tabindex", "0");
    if (grid.hasAttribute("aria-describedby") === false && document.getElementById("cal-keys")) {
      grid.setAttribute("aria-describedby", "cal-keys");
    }

    function visible(c) {
      return c.el.offsetParent !== null;
    }

    function moveTo(target) {
      if (!target) {
        return;
      }
      current.el.setAttribute("tabindex", "-1");
      current = target;
      current.el.setAttribute("tabindex", "0");
      current.el.focus();
    }

    // Along the lane first (same day, same machine), then the nearest lane.
    function nearest(dx, dy) {
      var pool = cells.filter(function (c) {
        if (c === current || !visible(c)) {
          return false;
        }
        if (dx > 0) { return c.x >= current.x + current.w; }
        if (dx < 0) { return c.x + c.w <= current.x; }
        if (dy > 0) { return c.y >= current.y + current.h; }
        return c.y + c.h <= current.y;
      });
      function along(c) {
        if (dx > 0) { return c.x - (current.x + current.w); }
        if (dx < 0) { return current.x - (c.x + c.w); }
        if (dy > 0) { return c.y - (current.y + current.h); }
        return current.y - (c.y + c.h);
      }
      function across(c) {
        if (dx !== 0) {
          return Math.max(0, c.y - (current.y + current.h - 1), current.y - (c.y + c.h - 1));
        }
        return Math.max(0, c.x - (current.x + current.w - 1), current.x - (c.x + c.w - 1));
      }
      pool.sort(function (a, b) {
        return (across(a) - across(b)) || (along(a) - along(b));
      });
      return pool[0];
    }

    grid.addEventListener("focusin", function (event) {
      var found = cells.filter(function (c) { return c.el === event.target; })[0];
      if (found && found !== current) {
        current.el.setAttribute("tabindex", "-1");
        current = found;
        current.el.setAttribute("tabindex", "0");
      }
    });

    // Shift + an arrow along time extends a selection of free cells from the
    // focused start; Enter then opens the booking form with that range.
    var axis = grid.getAttribute("data-axis") || "y";
    var selection = null;

    function laneCells(el) {
      var lane = el.getAttribute("data-lane") + "|" + el.getAttribute("data-date");
      return Array.prototype.filter.call(grid.querySelectorAll("[data-free]"), function (c) {
        return c.getAttribute("data-lane") + "|" + c.getAttribute("data-date") === lane;
      }).sort(function (p, q) {
        return minutes(p.getAttribute("data-from")) - minutes(q.getAttribute("data-from"));
      });
    }

    // The selection's range: its own cells' times, over the rows it reaches.
    function rangeOf(sel) {
      var from = minutes(sel.cells[0].getAttribute("data-from"));
      var to = minutes(sel.cells[sel.cells.length - 1].getAttribute("data-to"));
      var y = num(sel.anchor, "y", 0);
      var reach = sel.reach || 0;
      if (!reach) {
        return { cells: sel.cells, from: from, to: to, others: [] };
      }
      return acrossRows(grid, sel.anchor, Math.min(y, y + reach), Math.max(y, y + reach),
                        from, to) || { cells: sel.cells, from: from, to: to, others: [] };
    }

    function showSelection() {
      grid.querySelectorAll(".is-selected").forEach(function (c) { c.classList.remove("is-selected"); });
      if (!selection) {
        return;
      }
      var range = rangeOf(selection);
      range.cells.forEach(function (c) { c.classList.add("is-selected"); });
      announce(grid, range);
    }

    function extend(forward) {
      var anchor = current.el;
      if (!anchor.hasAttribute("data-free")) {
        return;
      }
      var lane = laneCells(anchor);
      var mine = selection && selection.anchor === anchor;
      var cells = mine ? selection.cells : [anchor];
      var last = cells[cells.length - 1];
      var at = lane.indexOf(last);
      if (forward) {
        var next = lane[at + 1];
        if (next && next.getAttribute("data-from") === last.getAttribute("data-to")) {
          cells = cells.concat([next]);
        }
      } else if (cells.length > 1) {
        cells = cells.slice(0, -1);
      }
      selection = { anchor: anchor, cells: cells, reach: mine ? selection.reach : 0 };
      showSelection();
    }

    // Shift with up or down on the site's day: one machine more, or less.
    function reachAcross(down) {
      var anchor = current.el;
      if (!anchor.hasAttribute("data-free")) {
        return;
      }
      var mine = selection && selection.anchor === anchor;
      var reach = (mine ? selection.reach : 0) + (down ? 1 : -1);
      var rows = Array.prototype.map.call(grid.querySelectorAll("[data-free]"), function (c) {
        return num(c, "y", 0);
      });
      var y = num(anchor, "y", 0) + reach;
      if (y < Math.min.apply(null, rows) || y > Math.max.apply(null, rows)) {
        return;
      }
      selection = { anchor: anchor, cells: mine ? selection.cells : [anchor], reach: reach };
      showSelection();
    }

    grid.addEventListener("keydown", function (event) {
      var later = axis === "y" ? "ArrowDown" : "ArrowRight";
      var earlier = axis === "y" ? "ArrowUp" : "ArrowLeft";
      if (event.shiftKey && (event.key === later || event.key === earlier)) {
        event.preventDefault();
        extend(event.key === later);
        return;
      }
      if (axis === "x" && event.shiftKey && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
        event.preventDefault();
        reachAcross(event.key === "ArrowDown");
        return;
      }
      if (event.key === "Enter" && selection && selection.anchor === current.el &&
          (selection.cells.length > 1 || selection.reach) && current.el.href) {
        event.preventDefault();
        window.location.assign(formUrl(grid, current.el.href, current.el, rangeOf(selection)));
        return;
      }
      if (event.key === "Escape" && selection) {
        selection = null;
        showSelection();
        return;
      }
      var moves = { ArrowRight: [1, 0], ArrowLeft: [-1, 0], ArrowDown: [0, 1], ArrowUp: [0, -1] };
      var move = moves[event.key];
      if (move) {
        selection = null;
        showSelection();
        event.preventDefault();
        moveTo(nearest(move[0], move[1]));
      } else if (event.key === "Home" || event.key === "End") {
        var lane = cells.filter(function (c) {
          return visible(c) && c.el.getAttribute("data-lane") === current.el.getAttribute("data-lane");
        });
        if (lane.length) {
          event.preventDefault();
          moveTo(event.key === "Home" ? lane[0] : lane[lane.length - 1]);
        }
      }
    });
  }

  /* --------------------------------------------------------- the panel */
  var panel = document.getElementById("booking-panel");
  var opener = null;

  function openPanel(el) {
    if (!panel) {
      return false;
    }
    ["title", "when", "status", "trainer", "project", "equipment"].forEach(function (name) {
      var field = panel.querySelector('[data-field="' + name + '"]');
      var value = el.getAttribute("data-" + name) || "";
      if (field) {
        field.textContent = value;
        field.hidden = !value;
        var term = panel.querySelector('[data-for="' + name + '"]');
        if (term) {
          term.hidden = !value;
        }
      }
    });
    ["show", "move", "cancel", "waitlist"].forEach(function (name) {
      var link = panel.querySelector('[data-action="' + name + '"]');
      var url = el.getAttribute("data-" + name);
      if (link) {
        link.hidden = !url;
        if (url) {
          link.setAttribute("href", url);
        }
      }
    });
    opener = el;
    panel.hidden = false;
    panel.focus();
    return true;
  }

  function closePanel() {
    if (panel && !panel.hidden) {
      panel.hidden = true;
      if (opener) {
        opener.focus();
      }
    }
  }

  if (panel) {
    panel.querySelector("[data-panel-close]").addEventListener("click", closePanel);
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        closePanel();
      }
    });
  }

  /* ------------------------------------------------------- drag select */
  function dragging(grid) {
    var axis = grid.getAttribute("data-axis") || "y";
    // The booking form's address, from a free start's link (none: no drag).
    var sampleStart = grid.querySelector("a[data-free]");
    var newUrl = sampleStart ? sampleStart.pathname : null;
    var moveForm = document.getElementById("cal-move-form");
    var state = null;

    function freeCellAt(x, y) {
      var el = document.elementFromPoint(x, y);
      return el && el.closest ? el.closest("[data-free]") : null;
    }

    // The free cells between two cells: of the first's lane, or on the site's
    // day of every row between them (null when the first's lane is busy).
    function run(a, b) {
      var from = Math.min(minutes(a.getAttribute("data-from")), minutes(b.getAttribute("data-from")));
      var to = Math.max(minutes(a.getAttribute("data-to")), minutes(b.getAttribute("data-to")));
      if (laneOf(a) === laneOf(b)) {
        return runIn(grid, laneOf(a), from, to);
      }
      var ya = num(a, "y", 0);
      var yb = num(b, "y", 0);
      return acrossRows(grid, a, Math.min(ya, yb), Math.max(ya, yb), from, to);
    }

    function reachable(cell) {
      return laneOf(cell) === laneOf(state.first) || (axis === "x" &&
        cell.getAttribute("data-date") === state.first.getAttribute("data-date"));
    }

    function paint(cells) {
      grid.querySelectorAll(".is-selected").forEach(function (c) { c.classList.remove("is-selected"); });
      (cells || []).forEach(function (c) { c.classList.add("is-selected"); });
    }

    grid.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) {
        return;
      }
      var booking = event.target.closest("[data-move]");
      if (booking && moveForm && booking.closest("[data-calendar]") === grid) {
        state = {
          kind: event.target.closest(".cal-resize") ? "resize" : "move", el: booking,
          x: event.clientX, y: event.clientY, moved: false
        };
        return;
      }
      var cell = event.target.closest("[data-free]");
      if (cell && newUrl) {
        state = { kind: "select", first: cell, last: cell, range: run(cell, cell), moved: false };
      }
    });

    grid.addEventListener("pointermove", function (event) {
      if (!state) {
        return;
      }
      if (state.kind === "select") {
        var cell = freeCellAt(event.clientX, event.clientY);
        if (cell && cell !== state.last && reachable(cell)) {
          state.last = cell;
          state.moved = true;
          state.range = run(state.first, cell);
          grid.classList.add("is-dragging");
          paint(state.range && state.range.cells);
          announce(grid, state.range);
        }
      } else if (Math.abs(event.clientX - state.x) + Math.abs(event.clientY - state.y) > 6) {
        state.moved = true;
        grid.classList.add("is-dragging");
        state.el.classList.add("is-moving");
      }
    });

    function finish(event) {
      var done = state;
      state = null;
      grid.classList.remove("is-dragging");
      if (!done || !done.moved) {
        paint(null);
        return;
      }
      event.preventDefault();
      if (done.kind === "select") {
        paint(null);
        if (done.range) {
          window.location.assign(formUrl(grid, newUrl, done.range.cells[0], done.range));
        }
        return;
      }
      done.el.classList.remove("is-moving");
      submitMove(done, event);
    }

    // The pointer's travel in grid steps, along time and across lanes.
    function submitMove(done, event) {
      var step = parseInt(grid.getAttribute("data-step"), 10) || 30;
      var sample = grid.querySelector("[data-x]");
      var rect = done.el.getBoundingClientRect();
      var along = axis === "y" ? event.clientY - done.y : event.clientX - done.x;
      var size = axis === "y" ? rect.height / num(done.el, "h", 1) : rect.width / num(done.el, "w", 1);
      var steps = Math.round(along / size);
      var days = 0;
      if (axis === "y" && done.kind === "move" && sample) {
        var head = grid.querySelector(".cal-head");
        var width = head ? head.getBoundingClientRect().width : rect.width;
        days = Math.round((event.clientX - done.x) / width);
      }
      if (!steps && !days) {
        return;
      }
      var start = minutes(done.el.getAttribute("data-start"));
      var end = minutes(done.el.getAttribute("data-end"));
      if (done.kind === "move") {
        start += steps * step;
      }
      end += steps * step;
      if (start < 0 || end > 24 * 60 || end <= start) {
        return;
      }
      moveForm.setAttribute("action", done.el.getAttribute("data-move"));
      moveForm.elements.title.value = done.el.getAttribute("data-title");
      moveForm.elements.day.value = addDays(done.el.getAttribute("data-day"), days);
      moveForm.elements.start.value = clock(start);
      moveForm.elements.end.value = clock(end);
      var status = document.getElementById("cal-status");
      if (status) {
        status.textContent = status.getAttribute("data-moving");
      }
      moveForm.submit();
    }

    grid.addEventListener("pointerup", finish);
    grid.addEventListener("pointercancel", function () {
      state = null;
      paint(null);
      grid.classList.remove("is-dragging");
    });
    // A drag ends in a drop, not in following the link it started on.
    grid.addEventListener("click", function (event) {
      if (grid.classList.contains("was-dragged")) {
        event.preventDefault();
        grid.classList.remove("was-dragged");
      }
    }, true);
    grid.addEventListener("pointerup", function () {
      if (grid.querySelector(".is-selected") || grid.classList.contains("is-dragging")) {
        grid.classList.add("was-dragged");
      }
    }, true);
    // Links would start the browser's own drag of a URL (and cancel ours).
    grid.querySelectorAll("a").forEach(function (link) {
      link.draggable = false;
    });
    grid.addEventListener("dragstart", function (event) {
      event.preventDefault();
    });
    grid.querySelectorAll("[data-move]").forEach(function (el) {
      var handle = document.createElement("span");
      handle.className = "cal-resize";
      handle.setAttribute("aria-hidden", "true");
      el.appendChild(handle);
    });
  }

  document.querySelectorAll("[data-calendar]").forEach(function (grid) {
    roving(grid);
    dragging(grid);
  });

  // A booking opens its panel (the link still works in a new tab, or without
  // JavaScript); Enter on a focused booking does the same.
  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.ctrlKey || event.metaKey ||
        event.shiftKey || event.altKey) {
      return;
    }
    var booking = event.target.closest("a[data-booking]");
    if (booking && openPanel(booking)) {
      event.preventDefault();
    }
  });
}());
