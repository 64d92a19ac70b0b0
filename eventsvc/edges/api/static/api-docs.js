// Starts Swagger UI on the service's own OpenAPI document (a file, not inline script, so
// that the page keeps to its Content-Security-Policy).
window.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({ url: element.dataset.spec, domNode: element, deepLinking: true });
});
