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

// At the door: the list narrows as one types. Without JavaScript the search button does it.
document.querySelectorAll("form.door-search").forEach(function (form) {
  var field = form.querySelector("input[type=search]");
  var list = document.querySelector(".door-list");
  var waiting = null;
  if (!field || !list || !window.fetch || !window.DOMParser) { return; }
  field.addEventListener("input", function () {
    window.clearTimeout(waiting);
    waiting = window.setTimeout(function () {
      var url = new URL(form.action || window.location.href, window.location.href);
      url.searchParams.set("q", field.value);
      window.fetch(url.toString(), {credentials: "same-origin"})
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").querySelector(".door-list");
          if (fresh) { list.replaceChildren.apply(list, Array.from(fresh.childNodes)); }
          window.history.replaceState(null, "", url.toString());
        });
    }, 250);
  });
});
