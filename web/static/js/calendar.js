// Drag a post to another day (or hour, in the week view) of the calendar. The move is posted to
// the same address as the move form (POST /posts/{id}/move), which answers in JSON here; the
// page then reloads on the calendar the person was looking at. Without JavaScript, each post's
// "Déplacer" link opens that form.
(function () {
  "use strict";

  var root = document.querySelector("[data-calendar][data-can-move]");
  if (!root) {
    return;
  }
  var status = document.getElementById("calendar-status");
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var dragged = null;

  function say(message, isError) {
    if (!status) {
      return;
    }
    status.textContent = message;
    status.classList.toggle("is-error", Boolean(isError));
  }

  function dropZone(element) {
    return element && element.closest ? element.closest("[data-drop-date]") : null;
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  root.addEventListener("dragstart", function (event) {
    var post = event.target.closest && event.target.closest(".cal-post[data-move-url]");
    if (!post) {
      return;
    }
    dragged = post;
    post.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", post.getAttribute("data-post-id"));
  });

  root.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("is-dragging");
    }
    dragged = null;
    root.querySelectorAll(".is-drop-target").forEach(function (zone) {
      zone.classList.remove("is-drop-target");
    });
  });

  root.addEventListener("dragover", function (event) {
    var zone = dropZone(event.target);
    if (!dragged || !zone) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!zone.classList.contains("is-drop-target")) {
      root.querySelectorAll(".is-drop-target").forEach(function (other) {
        other.classList.remove("is-drop-target");
      });
      zone.classList.add("is-drop-target");
    }
  });

  root.addEventListener("drop", function (event) {
    var zone = dropZone(event.target);
    if (!dragged || !zone) {
      return;
    }
    event.preventDefault();
    var post = dragged;
    var time = post.getAttribute("data-time") || "12:00";
    var hour = zone.getAttribute("data-drop-hour");
    if (hour !== null) {
      // A row of the week is an hour: the post keeps its minutes.
      time = pad(parseInt(hour, 10)) + ":" + time.slice(3, 5);
    }
    var body = new FormData();
    body.append("csrf_token", csrf ? csrf.getAttribute("content") : "");
    body.append("date", zone.getAttribute("data-drop-date"));
    body.append("time", time);
    body.append("next", window.location.pathname + window.location.search);
    say(root.getAttribute("data-moving") || "…", false);
    fetch(post.getAttribute("data-move-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
        if (result.ok && result.data.redirect) {
          window.location.assign(result.data.redirect);
        } else {
          say(result.data.detail || "Erreur", true);
        }
      })
      .catch(function () {
        say(root.getAttribute("data-failed") || "Erreur", true);
      });
  });
})();
