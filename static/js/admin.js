// The admin's search box is labelled by a magnifier icon alone; give it the words of the form's
// own visually hidden heading ("Search token changes"), so it has a label assistive
// technology reads.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("searchbar");
  const heading = document.getElementById("changelist-search-form");
  if (box && heading && !box.hasAttribute("aria-label")) {
    box.setAttribute("aria-label", heading.textContent.trim());
  }
});
