// The search box: "/" or Ctrl/Cmd+K goes to it, "?" lists the shortcuts, and the arrow keys
// move through the answers (links, so Enter opens one). Without JavaScript the box is a form
// that opens the search page.
(function () {
  function box() {
    return document.getElementById("search-box-q");
  }
  function answers() {
    // Under the box in the top bar; on the search page, that page's own list.
    var lists = [document.getElementById("search-box-results"), document.getElementById("search-page-results")];
    for (var i = 0; i < lists.length; i++) {
      if (lists[i] && lists[i].querySelector("a")) return Array.prototype.slice.call(lists[i].querySelectorAll("a"));
    }
    return [];
  }
  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }
  function closeAnswers() {
    var shown = document.getElementById("search-box-results");
    if (shown) shown.innerHTML = "";
  }

  document.addEventListener("keydown", function (event) {
    var input = box();
    if (!input || event.defaultPrevented) return;
    var dialog = document.getElementById("shortcuts");
    if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === "k") {
      event.preventDefault();
      input.focus();
      input.select();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (!typing(event.target)) {
      if (event.key === "/") {
        event.preventDefault();
        input.focus();
        input.select();
        return;
      }
      if (event.key === "?" && dialog && !dialog.open) {
        event.preventDefault();
        dialog.showModal();
        return;
      }
    }
    var links = answers();
    var at = links.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && (event.target === input || at >= 0) && links.length) {
      event.preventDefault();
      links[Math.min(at + 1, links.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      event.preventDefault();
      if (at === 0) input.focus();
      else links[at - 1].focus();
    } else if (event.key === "Escape" && (event.target === input || at >= 0)) {
      closeAnswers();
      input.focus();
    }
  });

  // The answers under the box close when the agent clicks or tabs elsewhere.
  document.addEventListener("focusin", function (event) {
    var form = document.getElementById("search-box");
    if (form && !form.contains(event.target)) closeAnswers();
  });
  document.addEventListener("click", function (event) {
    var form = document.getElementById("search-box");
    if (form && !form.contains(event.target)) closeAnswers();
  });
})();
