// Scrolls the highlighted feedback (the one a link pointed at) into view; a file, not inline
// script, so the Content-Security-Policy can forbid inline script everywhere.
document.querySelector("li.highlight")?.scrollIntoView({ block: "center" });
