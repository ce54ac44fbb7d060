// Keyboard of the workbench pages, and small helpers their components call.
// Ctrl+Enter (⌘+Enter) clicks the page's run button (the element marked data-ctrl-enter) from anywhere on the page;
// Escape closes an open dropdown (a select's list, a menu) as a click beside it would.
window.groklens = {
    // Keeps a scrolled list at its end, e.g. the token strip showing the newest generated token.
    followEnd(element) {
        if (element) element.scrollTop = element.scrollHeight;
    },

    // Puts the caret back in the prompt after a run, unless the user has moved on to another field meanwhile.
    refocus(selector) {
        const active = document.activeElement;
        const idle = !active || active === document.body || active.closest("button, [data-ctrl-enter]");
        const target = document.querySelector(selector);
        if (idle && target) target.focus();
    },
};

document.addEventListener("keydown", event => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        const run = document.querySelector("[data-ctrl-enter]");
        if (run && !run.disabled) {
            event.preventDefault();
            run.click();
        }
    } else if (event.key === "Escape" && document.querySelector(".mud-popover-open")) {
        // Dropdowns put a transparent overlay under their list that closes it when clicked; dialogs handle Escape themselves.
        const overlays = [...document.querySelectorAll(".mud-overlay:not(.mud-overlay-dialog)")];
        if (overlays.length > 0) overlays[overlays.length - 1].click();
    }
});
