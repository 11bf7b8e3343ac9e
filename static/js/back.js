// 返回上一页 on the error page (no inline script: the Content-Security-Policy forbids it).
document.addEventListener('DOMContentLoaded', function () {
  var link = document.getElementById('back');
  if (!link) return;
  link.addEventListener('click', function (event) {
    if (window.history.length > 1) { event.preventDefault(); window.history.back(); }
  });
});
