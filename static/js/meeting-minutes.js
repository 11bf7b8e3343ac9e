// 会议纪要 draft page: 预览 opens the minutes as typed in a new tab (the URL comes from data-preview-url).
document.addEventListener('DOMContentLoaded', function () {
  var button = document.getElementById('preview');
  if (!button) return;
  button.addEventListener('click', function () {
    var form = this.form;
    var url = this.dataset.previewUrl + '?title=' + encodeURIComponent(form.elements['title'].value) +
      '&decisions=' + encodeURIComponent(form.elements['decisions'].value);
    window.open(url, '_blank');
  });
});
