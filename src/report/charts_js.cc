// The chart code both pages run: reads the inlined datasets (#rp-data) and draws every
// <div class="chart" data-chart="NAME"> with ECharts (SVG renderer, animation off so printing
// and screenshots capture finished charts). Each drawn chart gets data-rendered="1" when
// ECharts reports it finished; a chart without data shows its data-empty text and gets
// data-rendered="nodata". The body gets data-charts-done when all are done.

#include "report/html_util.h"

namespace riskpipe::report::internal {

namespace {

constexpr char kScript[] = R"JS(
(function () {
'use strict';
var D = JSON.parse(document.getElementById('rp-data').textContent);
var F = D.facts || {};
function rows(name) {
  var t = D.datasets[name];
  if (!t || !t.rows) return [];
  return t.rows.map(function (r) { var o = {}; t.columns.forEach(function (c, i) { o[c] = r[i]; }); return o; });
}
function uniq(a) { var s = {}, out = []; a.forEach(function (x) { if (!(x in s)) { s[x] = 1; out.push(x); } }); return out; }
var MONTHS = rows('months').map(function (r) { return r.month; });
var SEV = { info: '#8c8c8c', warn: '#f0a020', act: '#d03030' };
var PALETTE = ['#2b6cb0', '#2f855a', '#b7791f', '#805ad5', '#c53030', '#319795', '#d53f8c', '#4a5568'];
function short(id) { return String(id).replace(/^.*\//, 'v'); }
function aligned(list, key) {
  var m = {}; list.forEach(function (r) { m[r.month] = r[key]; });
  return MONTHS.map(function (x) { return x in m ? m[x] : null; });
}
function base(extra) {
  var o = { animation: false, color: PALETTE, tooltip: { trigger: 'axis' },
    legend: { top: 0, type: 'plain' }, grid: { left: 56, right: 56, top: 62, bottom: 36 },
    xAxis: { type: 'category', data: MONTHS, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', scale: true } };
  for (var k in extra) o[k] = extra[k];
  return o;
}
function line(name, data, opts) {
  var s = { name: name, type: 'line', data: data, connectNulls: false, symbolSize: 5 };
  for (var k in opts || {}) s[k] = opts[k];
  return s;
}
function perfChart(metric) {
  var p = rows('perf').filter(function (r) { return r.metric === metric; });
  if (!p.length) return null;
  var series = [];
  uniq(p.map(function (r) { return r.model_id; })).forEach(function (id, i) {
    var mine = p.filter(function (r) { return r.model_id === id; });
    var c = PALETTE[i % PALETTE.length];
    series.push(line('realised ' + short(id), aligned(mine, 'value'), { itemStyle: { color: c } }));
    series.push(line('estimated ' + short(id), aligned(mine, 'estimated'),
      { lineStyle: { type: 'dashed' }, itemStyle: { color: c }, symbol: 'emptyCircle' }));
  });
  return base({ series: series });
}
function heatmap(name, label, pieces) {
  var r = rows(name);
  if (!r.length) return null;
  var feats = uniq(r.map(function (x) { return x.feature; })).sort().reverse();
  var fi = {}; feats.forEach(function (f, i) { fi[f] = i; });
  var mi = {}; MONTHS.forEach(function (m, i) { mi[m] = i; });
  var data = r.filter(function (x) { return x.value !== null; })
    .map(function (x) { return [mi[x.month], fi[x.feature], x.value]; });
  var max = Math.max.apply(null, data.map(function (d) { return d[2]; }).concat([1e-9]));
  var vm = pieces ? { type: 'piecewise', pieces: pieces, orient: 'horizontal', left: 'center', bottom: 0 }
                  : { min: 0, max: max, calculable: true, orient: 'horizontal', left: 'center', bottom: 0,
                      inRange: { color: ['#f7fbff', '#6baed6', '#08306b'] } };
  return { animation: false, tooltip: { position: 'top', formatter: function (p) {
      return feats[p.value[1]] + ' ' + MONTHS[p.value[0]] + ': ' + label + ' ' + (+p.value[2]).toFixed(4); } },
    grid: { left: 150, right: 20, top: 10, bottom: 70 },
    xAxis: { type: 'category', data: MONTHS, splitArea: { show: true }, axisLabel: { hideOverlap: true } },
    yAxis: { type: 'category', data: feats, splitArea: { show: true }, axisLabel: { fontSize: 10 } },
    visualMap: vm,
    series: [{ name: label, type: 'heatmap', data: data }] };
}
function psiPieces() {
  var w = F.psi_warn, a = F.psi_act;
  return [{ lt: w, label: '< ' + w + ' stable', color: '#c6e5c6' },
          { gte: w, lt: a, label: w + ' - ' + a + ' warn', color: '#f6c560' },
          { gte: a, label: '>= ' + a + ' act', color: '#d03030' }];
}
function scoreSeries(metric, axis) {
  var s = rows('score').filter(function (r) { return r.metric === metric; });
  return uniq(s.map(function (r) { return r.model_id; })).map(function (id) {
    return line(metric.replace('_', ' ') + ' ' + short(id),
      aligned(s.filter(function (r) { return r.model_id === id; }), 'value'), { yAxisIndex: axis || 0 });
  });
}
function stacked(list, cat, colors, share) {
  if (!list.length) return null;
  var cats = uniq(list.map(function (r) { return r[cat]; })).sort();
  var totals = {};
  list.forEach(function (r) { totals[r.month] = (totals[r.month] || 0) + r.n; });
  return base({ yAxis: { type: 'value', max: share ? 1 : null, axisLabel: share ? { formatter: function (v) { return Math.round(v * 100) + '%'; } } : {} },
    series: cats.map(function (c) {
      var mine = list.filter(function (r) { return r[cat] === c; }).map(function (r) {
        return { month: r.month, n: share ? r.n / totals[r.month] : r.n }; });
      return { name: c, type: 'bar', stack: 'all', data: aligned(mine, 'n'),
               itemStyle: colors && colors[c] ? { color: colors[c] } : undefined };
    }) });
}

var B = {
  auc: function () { return perfChart('auc'); },
  gini: function () { return perfChart('gini'); },
  ks: function () { return perfChart('ks'); },
  psi: function () {
    var s = scoreSeries('score_psi');
    if (!s.length) return null;
    var mx = 0; s.forEach(function (x) { x.data.forEach(function (v) { if (v > mx) mx = v; }); });
    s[0].markLine = { symbol: 'none', silent: true, data: [
      { yAxis: F.psi_warn, name: 'warn', lineStyle: { color: SEV.warn, type: 'dashed' }, label: { formatter: 'warn ' + F.psi_warn } },
      { yAxis: F.psi_act, name: 'act', lineStyle: { color: SEV.act, type: 'dashed' }, label: { formatter: 'act ' + F.psi_act } }] };
    return base({ yAxis: { type: 'value', min: 0, max: Math.ceil(Math.max(F.psi_act * 1.25, mx * 1.1) * 20) / 20 }, series: s });
  },
  approval: function () {
    var s = scoreSeries('approval_rate', 0).concat(scoreSeries('mean_pd', 1));
    if (!s.length) return null;
    return base({ yAxis: [{ type: 'value', name: 'approval rate', scale: true }, { type: 'value', name: 'mean PD', scale: true }], series: s });
  },
  calibration_gap: function () {
    var c = perfChart('calibration_gap');
    if (!c) return null;
    var marks = [];
    [['act', F.calib_act], ['warn', F.calib_warn]].forEach(function (t) {
      [1, -1].forEach(function (sign) {
        marks.push({ yAxis: sign * t[1], name: t[0], lineStyle: { color: SEV[t[0]], type: 'dashed' }, label: { formatter: t[0] } });
      });
    });
    c.series[0].markLine = { symbol: 'none', silent: true, data: marks };
    var lim = F.calib_act * 1.2;
    c.yAxis = { type: 'value', min: function (v) { return Math.min(v.min, -lim); }, max: function (v) { return Math.max(v.max, lim); },
      axisLabel: { formatter: function (v) { return Math.round(v * 100) / 100; } } };
    return c;
  },
  default_rate: function () {
    var p = rows('perf').filter(function (r) { return r.metric === 'default_rate' || r.metric === 'mean_pd'; });
    if (!p.length) return null;
    var series = [];
    uniq(p.map(function (r) { return r.model_id; })).forEach(function (id) {
      var d = p.filter(function (r) { return r.model_id === id && r.metric === 'default_rate'; });
      var m = p.filter(function (r) { return r.model_id === id && r.metric === 'mean_pd'; });
      series.push(line('observed default rate ' + short(id), aligned(d, 'value')));
      series.push(line('estimated default rate ' + short(id), aligned(d, 'estimated'), { lineStyle: { type: 'dashed' } }));
      series.push(line('mean PD ' + short(id), m.length ? aligned(m, 'value').map(function (v, i) { return v !== null ? v : aligned(m, 'estimated')[i]; }) : [], { lineStyle: { type: 'dotted' } }));
    });
    return base({ series: series });
  },
  calibration: function () {
    var c = rows('calibration');
    var dev = (F.model && F.model.metadata && F.model.metadata.metrics) || {};
    var devTable = ((dev.oot || dev.test || {}).calibration_by_decile) || [];
    if (!c.length && !devTable.length) return null;
    var n = Math.max(c.length, devTable.length), cats = [];
    for (var i = 1; i <= n; i++) cats.push(String(i));
    var series = [];
    if (c.length) {
      series.push({ name: 'observed ' + c[0].month, type: 'bar', data: c.map(function (r) { return r.observed; }) });
      series.push({ name: 'predicted ' + c[0].month, type: 'bar', data: c.map(function (r) { return r.predicted; }) });
    }
    if (devTable.length) series.push(line('development observed', devTable.map(function (r) { return r.observed_rate; }), { lineStyle: { type: 'dashed' } }));
    return base({ xAxis: { type: 'category', data: cats }, series: series });
  },
  csi: function () { return heatmap('csi', 'CSI', psiPieces()); },
  null_rate: function () { return heatmap('null_rate', 'null rate', null); },
  importance: function () { return heatmap('importance', 'mean |attribution|', null); },
  bands: function () { return stacked(rows('bands'), 'score_band', null, true); },
  alerts: function () { return stacked(rows('alert_counts'), 'severity', SEV, false); },
  dq: function () {
    return stacked(rows('dq_summary'), 'result', { pass: '#7fbf7f', skip: '#bbbbbb', 'fail (warn)': SEV.warn, 'fail (error)': SEV.act }, false);
  },
  roles: function () {
    var r = rows('roles');
    if (!r.some(function (x) { return x.role === 'challenger'; })) return null;
    var series = [];
    uniq(r.map(function (x) { return x.role + ' ' + short(x.model_id); })).forEach(function (key) {
      var mine = r.filter(function (x) { return x.role + ' ' + short(x.model_id) === key; });
      series.push(line('approval ' + key, aligned(mine, 'approval_rate')));
      series.push(line('mean PD ' + key, aligned(mine, 'mean_pd'), { yAxisIndex: 1, lineStyle: { type: 'dashed' } }));
    });
    return base({ yAxis: [{ type: 'value', name: 'approval rate', scale: true }, { type: 'value', name: 'mean PD', scale: true }], series: series });
  }
};

var charts = [], pending = 0;
function done() { document.body.setAttribute('data-charts-done', String(charts.length)); }
document.querySelectorAll('div.chart[data-chart]').forEach(function (el) {
  var name = el.getAttribute('data-chart'), opt = null;
  try { opt = B[name] ? B[name]() : (rpError('no chart named ' + name), null); } catch (e) { rpError(name + ': ' + e); }
  if (!opt) {
    el.classList.add('nodata');
    el.textContent = el.getAttribute('data-empty') || 'No data yet.';
    el.setAttribute('data-rendered', 'nodata');
    return;
  }
  opt.animation = false;
  var chart = echarts.init(el, null, { renderer: 'svg' });
  pending++;
  chart.on('finished', function () {
    if (el.getAttribute('data-rendered') !== '1') { el.setAttribute('data-rendered', '1'); if (--pending === 0) done(); }
  });
  chart.setOption(opt);
  charts.push(chart);
});
if (pending === 0) done();
window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
window.addEventListener('beforeprint', function () { charts.forEach(function (c) { c.resize(); }); });
})();
)JS";

}  // namespace

std::string_view ChartsScript() { return kScript; }

}  // namespace riskpipe::report::internal
