// vidsvc's own start-up for Swagger UI (not vendored): a static file, so the page's CSP allows
// no inline script. The spec is the one the page names; nothing in the address bar can change
// it (queryConfigEnabled: false ignores ?url= and ?configUrl=, CVE-2021-46708), and no badge
// is fetched from validator.swagger.io (validatorUrl: null): the page talks to this origin only.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.specUrl,
    dom_id: "#swagger-ui",
    queryConfigEnabled: false,
    validatorUrl: null,
    deepLinking: false,
  });
});
