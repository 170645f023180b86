// Swagger UI over this server's own OpenAPI document. Served from Workers Static Assets (copied
// from swagger-ui-dist by scripts/docs-assets.ts), so the page works offline and costs the Worker nothing.
window.addEventListener("DOMContentLoaded", () => {
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    tryItOutEnabled: true,
    displayRequestDuration: true,
    // No call to swagger.io's online validator: the page makes requests to this origin only.
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
