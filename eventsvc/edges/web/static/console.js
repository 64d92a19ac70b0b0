// Shows the progress of a file upload. Without JavaScript the form is sent as usual.
document.querySelectorAll("form[data-progress]").forEach(function (form) {
  var bar = document.getElementById(form.getAttribute("data-progress"));
  form.addEventListener("submit", function (event) {
    if (!window.XMLHttpRequest || !window.FormData || !bar) { return; }
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action || window.location.href);
    request.upload.addEventListener("progress", function (progress) {
      if (progress.lengthComputable) { bar.value = Math.round(100 * progress.loaded / progress.total); }
    });
    request.addEventListener("load", function () {
      document.open();
      document.write(request.responseText);
      document.close();
      if (request.responseURL) { window.history.replaceState(null, "", request.responseURL); }
    });
    bar.hidden = false;
    request.send(new FormData(form));
  });
});
