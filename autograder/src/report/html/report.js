// heaplab's HTML report: steps through each failing sequence, one drawing
// of the heap per operation, with the buttons or the arrow keys (they move
// the sequence last clicked or focused; the first one at the start).
"use strict";
(function () {
  var steppers = Array.prototype.slice.call(document.querySelectorAll(".stepper"));
  var active = steppers.length ? steppers[0] : null;

  function show(s, i) {
    var figures = s.querySelectorAll("figure.step");
    var last = figures.length - 1;
    i = Math.max(0, Math.min(last, i));
    s.setAttribute("data-at", String(i));
    for (var k = 0; k < figures.length; k++) {
      figures[k].hidden = k !== i;
    }
    s.querySelector(".counter").textContent = "step " + (i + 1) + " of " + figures.length;
    s.querySelector(".prev").disabled = i === 0;
    s.querySelector(".next").disabled = i === last;
  }

  function move(s, by) {
    show(s, Number(s.getAttribute("data-at")) + by);
  }

  steppers.forEach(function (s) {
    s.querySelector(".prev").addEventListener("click", function () {
      active = s;
      move(s, -1);
    });
    s.querySelector(".next").addEventListener("click", function () {
      active = s;
      move(s, 1);
    });
    s.addEventListener("focusin", function () {
      active = s;
    });
    s.addEventListener("pointerdown", function () {
      active = s;
    });
    // Start at the step that failed: the last one.
    show(s, s.querySelectorAll("figure.step").length - 1);
  });

  document.addEventListener("keydown", function (e) {
    if (!active || e.altKey || e.ctrlKey || e.metaKey) {
      return;
    }
    if (e.key === "ArrowLeft") {
      move(active, -1);
      e.preventDefault();
    } else if (e.key === "ArrowRight") {
      move(active, 1);
      e.preventDefault();
    }
  });
  document.documentElement.classList.add("js");
})();
