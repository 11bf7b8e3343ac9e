// Searchable pickers: typing in a picker's filter box hides the choices whose name does not contain it.
// (Static file: the Content-Security-Policy forbids inline script.)
document.addEventListener('input', function (e) {
  var box = e.target;
  if (!box.matches || !box.matches('input[data-picker-filter]')) return;
  var picker = box.closest('fieldset');
  var text = box.value.trim();
  picker.querySelectorAll('label[data-name]').forEach(function (label) {
    label.hidden = text !== '' && label.getAttribute('data-name').indexOf(text) === -1;
  });
});
