// 安排会议 page: shows the materials deadline (第二十四条) for the chosen date (URL from data-deadline-url).
document.addEventListener('DOMContentLoaded', function () {
  var input = document.getElementById('meeting_date');
  if (!input) return;
  input.addEventListener('change', function () {
    var info = document.getElementById('deadline-info');
    if (!this.value) return;
    fetch(this.dataset.deadlineUrl + '?date=' + encodeURIComponent(this.value), {credentials: 'same-origin'})
      .then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.error) { info.textContent = d.error.message; return; }
        info.className = d.missed ? 'warn' : 'muted';
        info.textContent = '材料最迟送达日（会议日期 − 3 个工作日，第二十四条）：' + d.latest_day +
          (d.missed ? '。今天（' + d.today + '）已过此日，须填写紧急事由；最早可安排在 ' + d.earliest_meeting + '。' : '');
      });
  });
});
