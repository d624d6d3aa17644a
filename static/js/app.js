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

// One convention for every answer to an action (htmx_head.html lets every status through):
// - an answer the desk explains (the Desk-Explained header: views/htmx.py) takes its place like
//   any other, whatever its status, so a refusal reads in the server's words where the agent
//   clicked;
// - any other page with words in it (an error page: not allowed, not found, a server error) is
//   not swapped in, but its heading and sentence are shown where the agent clicked;
// - only when nothing came back does the page say the desk did not answer, with a way to retry.
var UNREACHABLE = "The desk did not answer (the network or the server failed). ";
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  if (!xhr || xhr.status < 400) return;
  event.detail.isError = false;
  if (xhr.getResponseHeader("Desk-Explained")) return;
  event.detail.shouldSwap = false;
  var words = serverWords(xhr.responseText);
  // The event is the target's; the agent clicked the element that made the request.
  var clicked = event.detail.requestConfig ? event.detail.requestConfig.elt : event.detail.elt;
  showInPlace(clicked, words || UNREACHABLE, !words || xhr.status >= 500);
});
document.addEventListener("htmx:sendError", function (event) {
  showInPlace(event.detail.elt, UNREACHABLE, true);
});

// The heading and first sentence of an error page, or the text of a fragment; "" if none.
function serverWords(html) {
  if (!html || !html.trim()) return "";
  var page = new DOMParser().parseFromString(html, "text/html");
  var main = page.querySelector("main") || page.body;
  if (!main) return "";
  var heading = main.querySelector("h1");
  var sentence = main.querySelector("[role=alert], p:not(.actions)");
  var words = [heading, sentence].filter(Boolean).map(function (element) {
    return element.textContent.trim();
  }).filter(Boolean).join(": ");
  return (words || main.textContent.trim()).slice(0, 400);
}

function showInPlace(source, words, retryable) {
  if (!source || !source.isConnected) return;
  var holder = source.closest("td, form, li, p, section") || source.parentElement;
  if (!holder) return;
  var old = holder.querySelector(".answer-in-place");
  if (old) old.remove();
  var note = document.createElement("p");
  note.className = "notice error answer-in-place";
  note.setAttribute("role", "alert");
  note.textContent = words;
  if (retryable) {
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
    note.appendChild(document.createTextNode(" "));
    note.appendChild(retry);
  }
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

// A refund request the agent has started on (typing an answer, or reading the desk's answer to
// it) is kept as it is when the queue fetches itself again (another agent's answer, Apple's
// news): htmx keeps an element marked hx-preserve, by its id, through the swap.
["focusin", "input", "submit"].forEach(function (name) {
  document.addEventListener(name, function (event) {
    var item = event.target.closest && event.target.closest("#refund-queue li[id]");
    if (item) item.setAttribute("hx-preserve", "true");
  });
});

// Back (or Forward) to an order: the lookup box shows that order again, not whatever was typed
// into it last (htmx restores the page's HTML, where a typed value is not).
document.addEventListener("htmx:historyRestore", function () {
  var order = document.querySelector("#order[data-order-id]");
  var box = document.getElementById("id_order_id");
  if (order && box) box.value = order.getAttribute("data-order-id");
});
