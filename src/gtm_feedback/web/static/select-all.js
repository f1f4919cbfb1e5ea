// "Select all" checkboxes: ticking one in a table's head ticks every box of its body. A file,
// not inline script, so the Content-Security-Policy can forbid inline script everywhere.
for (const all of document.querySelectorAll("input[data-select-all]")) {
  all.addEventListener("change", () => {
    const table = all.closest("table");
    for (const box of table.querySelectorAll("tbody input[type=checkbox]")) {
      box.checked = all.checked;
    }
  });
}
