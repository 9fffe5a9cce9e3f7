// Rallybot console: small progressive enhancements (the pages work without them).
// A form with data-confirm="question" asks before it is sent (its own words, from the page).
"use strict";
document.addEventListener("submit", function (event) {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm) {
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }
}, true);
// After htmx replaces part of a page, move the focus to a new heading marked data-focus so
// that keyboard and screen reader users hear what changed.
document.addEventListener("htmx:afterSettle", function (event) {
  const target = event.detail && event.detail.elt;
  const heading = target && target.querySelector ? target.querySelector("[data-focus]") : null;
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
});
// A file field (templates/file_field.html): the chosen file's name, in place of the words
// "no file chosen" of the page's language.
document.addEventListener("change", function (event) {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.fileName) {
    return;
  }
  const shown = document.getElementById(input.dataset.fileName);
  if (shown) {
    const names = Array.from(input.files || [], function (file) { return file.name; });
    shown.textContent = names.length ? names.join(", ") : (shown.dataset.none || "");
  }
});
// The pages' menu on a phone (a <details>, templates/base.html): Escape folds it again and
// gives the focus back to its button, as a menu does. On a wide screen the button is hidden
// and the links always shown: nothing to fold.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape" || !(event.target instanceof Element)) {
    return;
  }
  const menu = event.target.closest("details.menu[open]");
  const button = menu ? menu.querySelector("summary") : null;
  if (menu && button && button.getClientRects().length) {
    menu.open = false;
    button.focus();
  }
});
// A browser that cannot show a closed <details>'s content by style alone (no
// ::details-content) would keep the Menu button (and a filter form's Filters button,
// templates/filters_fold.html) on a wide screen too: there they are kept open instead,
// their button hidden by the stylesheet (.wide).
(function () {
  const folds = document.querySelectorAll("details.menu, details.fold");
  if (!folds.length || (window.CSS && CSS.supports("selector(::details-content)"))) {
    return;
  }
  const wide = window.matchMedia("(width > 40rem)");
  // A fold opened by the page (a field with a problem to read) stays open on a phone.
  const opened = Array.from(folds, function (fold) { return fold.open; });
  function fit() {
    folds.forEach(function (fold, i) {
      fold.classList.toggle("wide", wide.matches);
      fold.open = wide.matches || (fold.classList.contains("fold") && opened[i]);
    });
  }
  fit();
  wide.addEventListener("change", fit);
})();
