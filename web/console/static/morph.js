// callin's morph swap for htmx: live fragments are merged into the page by
// id with idiomorph (vendored core, idiomorph.min.js), so the elements a
// producer is using stay the same elements: a click begun on a button, the
// keyboard focus, an open menu, the selected row and half-typed text all
// survive an update. (Our own few lines rather than idiomorph's htmx
// extension: that one claims every swap style as inline, which wraps rows
// inserted out of band, and evaluates "morph:{…}" configs, which the
// Content-Security-Policy forbids.)
(function () {
  "use strict";
  // The server never sends these attributes: they are the browser's, and
  // a morph must not remove them (the selected row, an open menu, a
  // timer's escalation, a menu opened upward).
  var own = { "aria-current": 1, "open": 1, "data-level": 1, "data-up": 1 };
  Idiomorph.defaults.ignoreActiveValue = true;
  Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (name, node, how) {
    return !(how === "remove" && own[name]);
  };
  Idiomorph.defaults.callbacks.beforeNodeMorphed = function (old, neu) {
    if (old.nodeType !== 1) return true;
    // A form being edited is left as it is until it is sent.
    if (old.hasAttribute("data-dirty")) return false;
    // A timer counting from the same moment keeps its text and level.
    if (old.dataset.since && neu.dataset && old.dataset.since === neu.dataset.since && old.dataset.limit === neu.dataset.limit) return false;
    return true;
  };
  htmx.defineExtension("morph", {
    isInlineSwap: function (style) { return style === "morph" || style === "morph:outerHTML"; },
    handleSwap: function (style, target, fragment) {
      if (style === "morph" || style === "morph:outerHTML") return Idiomorph.morph(target, fragment.children, { morphStyle: "outerHTML" });
      if (style === "morph:innerHTML") return Idiomorph.morph(target, fragment.children, { morphStyle: "innerHTML" });
      return false;
    }
  });
})();
