// A little progressive enhancement: every page works without it.
// - A "Print this plan" button beside the result (the print stylesheet lays it out).
// - After an error, focus moves to the message so that a screen reader reads it first.
document.addEventListener("DOMContentLoaded", function () {
  var error = document.getElementById("error");
  if (error) {
    error.setAttribute("tabindex", "-1");
    error.focus();
  }
  var title = document.getElementById("result-title");
  if (title) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "print-button";
    button.textContent = "Print this plan";
    button.addEventListener("click", function () { window.print(); });
    title.insertAdjacentElement("afterend", button);
  }
});
