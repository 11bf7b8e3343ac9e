// A form answered with an error: mark the field it is about aria-invalid, tie the message to it
// (aria-describedby) and put the focus there, so keyboard and screen-reader users land on it.
// The field is the one named by the message's data-field (in any form of the page), else the first
// empty required field of the form that follows the message, else that form's first field.
// (Static file: the Content-Security-Policy forbids inline script.)
document.addEventListener('DOMContentLoaded', function () {
  var alert = document.querySelector('main .error[role=alert]');
  if (!alert) return;
  if (!alert.id) alert.id = 'form-error';
  function usable(f) {
    return f.type !== 'hidden' && f.type !== 'submit' && f.type !== 'button' && !f.disabled;
  }
  var target = null;
  var named = alert.getAttribute('data-field');
  if (named) {
    target = Array.prototype.filter.call(document.querySelectorAll('main form [name]'), function (f) {
      return f.name === named && usable(f);
    })[0] || null;
  }
  if (!target) {
    var form = null;
    for (var el = alert.nextElementSibling; el && !form; el = el.nextElementSibling) {
      form = el.tagName === 'FORM' ? el : el.querySelector('form');
    }
    if (form) {
      var fields = Array.prototype.filter.call(form.elements, usable);
      target = fields.filter(function (f) { return f.required && !f.value; })[0] || fields[0] || null;
    }
  }
  if (!target) { alert.setAttribute('tabindex', '-1'); alert.focus(); return; }
  target.setAttribute('aria-invalid', 'true');
  var described = target.getAttribute('aria-describedby');
  target.setAttribute('aria-describedby', described ? described + ' ' + alert.id : alert.id);
  target.focus();
});
