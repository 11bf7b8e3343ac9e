// A button with data-confirm asks before its form is sent (irreversible or far-reaching actions).
// (Static file: the Content-Security-Policy forbids inline script.)
document.addEventListener('submit', function (e) {
  var button = e.submitter || null;
  var text = (button && button.getAttribute('data-confirm')) || e.target.getAttribute('data-confirm');
  if (text && !window.confirm(text)) e.preventDefault();
}, true);
