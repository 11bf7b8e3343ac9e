// A form answered with an error: mark the field it is about aria-invalid, tie the message to it
// (aria-describedby) and put the focus there, so keyboard and screen-reader users land on it.
// The field is the one named by the message's data-field, else the first empty required field of the
// form that follows the message, else that form's first field. (Static file: the CSP forbids inline script.)
document.addEventListener('DOMContentLoaded', function () {
  var alert = document.querySelector('main .error[role=alert]');
  if (!alert) return;
  var form = null;
  for (var el = alert.nextElementSibling; el && !form; el = el.nextElementSibling) {
    form = el.tagName === 'FORM' ? el : el.querySelector('form');
  }
  if (!form && alert.parentElement) form = alert.parentElement.querySelector('form');
  if (!form) { alert.setAttribute('tabindex', '-1'); alert.focus(); return; }
  var fields = Array.prototype.filter.call(form.elements, function (f) {
    return f.type !== 'hidden' && f.type !== 'submit' && f.type !== 'button' && !f.disabled;
  });
  var named = alert.getAttribute('data-field');
  var target = null;
  if (named) target = fields.filter(function (f) { return f.name === named; })[0] || null;
  if (!target) target = fields.filter(function (f) { return f.required && !f.value; })[0] || null;
  if (!target) target = fields[0] || null;
  if (!alert.id) alert.id = 'form-error';
  if (!target) { alert.setAttribute('tabindex', '-1'); alert.focus(); return; }
  target.setAttribute('aria-invalid', 'true');
  var described = target.getAttribute('aria-describedby');
  target.setAttribute('aria-describedby', described ? described + ' ' + alert.id : alert.id);
  target.focus();
});
