// Tell the server the agent's time zone, so dates show in local time.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("agent_tz=" + encodeURIComponent(zone)) === -1) {
    document.cookie = "agent_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
  }
})();

// On a narrow screen the top bar folds its menu behind one button. Without JavaScript the
// menu simply stays open.
(function () {
  var narrow = window.matchMedia("(max-width: 760px)");
  function setUp() {
    var toggle = document.querySelector(".menu-toggle");
    var menu = document.getElementById("topbar-menu");
    if (!toggle || !menu) return;
    function show(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      menu.classList.toggle("folded", !open);
    }
    function fit() {
      toggle.hidden = !narrow.matches;
      show(!narrow.matches);
    }
    toggle.addEventListener("click", function () {
      show(toggle.getAttribute("aria-expanded") !== "true");
    });
    narrow.addEventListener("change", fit);
    fit();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();

// When the desk can't be reached at all (the network, or a server error with no page to
// show), say so where the agent clicked, with a way to try again.
document.addEventListener("htmx:sendError", showUnreachable);
document.addEventListener("htmx:responseError", showUnreachable);
function showUnreachable(event) {
  var source = event.detail && event.detail.elt;
  if (!source || !source.isConnected) return;
  var holder = source.closest("td, form, li, p, section") || source.parentElement;
  if (!holder || holder.querySelector(".unreachable")) return;
  var note = document.createElement("p");
  note.className = "notice error unreachable";
  note.setAttribute("role", "alert");
  note.textContent = "The desk did not answer (the network or the server failed). ";
  var retry = document.createElement("button");
  retry.type = "button";
  retry.className = "small";
  retry.textContent = "Retry";
  retry.addEventListener("click", function () {
    note.remove();
    if (source.tagName === "FORM") {
      source.requestSubmit();
    } else {
      source.click();
    }
  });
  note.appendChild(retry);
  holder.appendChild(note);
}

// A table wider than its box scrolls inside it; the keyboard must reach it too, and a screen
// reader hears what it is (its caption).
function makeScrollBoxesReachable(root) {
  (root || document).querySelectorAll(".table-scroll").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth || box.scrollHeight > box.clientHeight) {
      var caption = box.querySelector("caption");
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", caption ? caption.textContent.trim() : "Table");
    } else {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  });
}
document.addEventListener("DOMContentLoaded", function () { makeScrollBoxesReachable(); });
document.addEventListener("htmx:afterSettle", function () { makeScrollBoxesReachable(); });
window.addEventListener("resize", function () { makeScrollBoxesReachable(); });
