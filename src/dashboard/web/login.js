// The login page: where to go afterwards, and the error of a rejected token.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const params = new URLSearchParams(location.search);
  document.getElementById("next").value = params.get("next") || "/";
  document.getElementById("error").hidden = !params.has("error");
});
