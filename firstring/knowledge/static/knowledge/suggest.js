// Suggested articles beside a conversation: "Insert link" puts the article's link into the reply box,
// "Insert answer" its opening sentences.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".kb-insert") : null;
    if (!button) return;
    var box = document.getElementById("reply-text");
    if (!box) return;
    var text = button.getAttribute("data-insert") || "";
    var start = box.selectionStart || 0;
    var end = box.selectionEnd || 0;
    var before = box.value.slice(0, start);
    var glue = before && !/\s$/.test(before) ? " " : "";
    box.value = before + glue + text + box.value.slice(end);
    var caret = (before + glue + text).length;
    box.focus();
    box.setSelectionRange(caret, caret);
  });
})();
