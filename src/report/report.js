/*
 * report.js - draws report.html from the JSON that report.c embeds in
 * the script element with id fl-data (inlined into the page by
 * report_assets.c).
 *
 * Safety rule: every string that came from a history, a config or a
 * database is put on the page with textContent or canvas fillText, never as
 * markup. Speed rule: ops are columns of numbers; the timeline draws only
 * what is visible, batched by colour, so 100,000 ops pan and zoom smoothly.
 * After rendering, counts of what was drawn are written as data-* attributes
 * on <body> (the tests and the benchmark read them from the DOM).
 */
(function () {
	'use strict';
	var body = document.body;
	var nErrors = 0;
	window.addEventListener('error', function (e) {
		nErrors++;
		body.setAttribute('data-errors', String(nErrors));
		body.setAttribute('data-last-error', String(e.message));
	});
	window.addEventListener('load', function () {
		body.setAttribute('data-load-ms', String(Math.round(performance.now())));
	});

	var tStart = performance.now();
	var D = JSON.parse(document.getElementById('fl-data').textContent);
	var tParsed = performance.now();
	var S = D.strings, O = D.ops, N = O.t0.length;
	var END = Math.max(D.end, 1);
	var COL = ['#2a9d8f', '#e63946', '#f4a261', '#8d99ae'];
	var TYN = ['ok', 'fail', 'info', 'never completed'];
	var PALETTE = ['#3a86ff', '#8338ec', '#fb8500', '#06a77d', '#ff006e', '#8d6e63', '#118ab2', '#6a994e'];
	var L = 70, R = 18; /* plot margins shared by every time plot, so times line up */

	/* ---- decode the columns ---- */
	var t0 = new Float64Array(N), t1 = new Float64Array(N), idx = new Float64Array(N);
	var acc = 0, accI = 0, maxDur = 0, i;
	for (i = 0; i < N; i++) {
		acc += O.t0[i];
		accI += O.i[i];
		t0[i] = acc;
		idx[i] = accI;
		t1[i] = O.d[i] < 0 ? END : acc + O.d[i];
		if (t1[i] - t0[i] > maxDur) maxDur = t1[i] - t0[i];
	}
	var ty = Int8Array.from(O.ty);
	/* Lanes. A process whose op ended info is retired and its worker goes
	 * on as process p + concurrency, so with the run's concurrency known
	 * each worker gets one lane holding its successive processes (they
	 * never overlap in time); otherwise, or if they would overlap, a lane
	 * per process. */
	var laneOf = new Int32Array(N), lanes, laneOps;
	function assignLanes(keyOf) {
		var seen = {}, keys = [];
		for (var k = 0; k < N; k++) { var key = keyOf(O.p[k]); if (!(key in seen)) { seen[key] = 1; keys.push(key); } }
		keys.sort(function (a, b) { return a - b; });
		var at = {};
		keys.forEach(function (key, j) { at[key] = j; });
		var ops = keys.map(function () { return []; });
		for (k = 0; k < N; k++) { laneOf[k] = at[keyOf(O.p[k])]; ops[laneOf[k]].push(k); }
		return { keys: keys, ops: ops };
	}
	function overlapping(ops) {
		for (var j = 0; j < ops.length; j++) {
			var end = -Infinity;
			for (var m = 0; m < ops[j].length; m++) {
				var k = ops[j][m];
				if (t0[k] < end) return true;
				if (ty[k] !== 3) end = t1[k];
			}
		}
		return false;
	}
	var byWorker = false;
	if (D.concurrency > 0) {
		var la = assignLanes(function (p) { return p % D.concurrency; });
		if (!overlapping(la.ops)) { byWorker = true; lanes = la; }
	}
	if (!byWorker) lanes = assignLanes(function (p) { return p; });
	laneOps = lanes.ops;
	var procs = lanes.keys;
	var kinds = [], kindColor = {};
	D.faults.forEach(function (f) {
		if (!(f.kind in kindColor)) { kindColor[f.kind] = PALETTE[kinds.length % PALETTE.length]; kinds.push(f.kind); }
	});
	var fColor = S.f.map(function (f, k) { return PALETTE[k % PALETTE.length]; });

	/* ---- small helpers ---- */
	function el(tag, text, cls) {
		var e = document.createElement(tag);
		if (text !== undefined && text !== null) e.textContent = String(text);
		if (cls) e.className = cls;
		return e;
	}
	function str(tab, k) { return k < 0 ? null : S[tab][k]; }
	function fmtDur(us) {
		if (us < 1000) return us.toFixed(0) + ' \u00b5s';
		if (us < 1e6) return (us / 1000).toFixed(us < 1e4 ? 2 : 1) + ' ms';
		return (us / 1e6).toFixed(3) + ' s';
	}
	function fmtT(us) { return (us / 1e6).toFixed(6) + ' s'; }
	function niceStep(span, n) {
		var raw = span / Math.max(n, 1), p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
		return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
	}
	function lowerBound(arr, v) {
		var lo = 0, hi = arr.length;
		while (lo < hi) { var mid = (lo + hi) >> 1; if (arr[mid] < v) lo = mid + 1; else hi = mid; }
		return lo;
	}
	function canvas(host, h) {
		host.textContent = '';
		var c = document.createElement('canvas');
		host.appendChild(c);
		var w = Math.max(host.clientWidth, 320), r = window.devicePixelRatio || 1;
		c.width = Math.round(w * r);
		c.height = Math.round(h * r);
		c.style.height = h + 'px';
		var ctx = c.getContext('2d');
		ctx.scale(r, r);
		ctx.font = '11px system-ui, "DejaVu Sans", sans-serif';
		return { c: c, ctx: ctx, w: w, h: h, pw: w - L - R };
	}
	function xOf(cv, v0, v1, t) { return L + (t - v0) / (v1 - v0) * cv.pw; }
	/* Time axis along y, with light grid lines from top to y. */
	function timeAxis(cv, v0, v1, top, y) {
		var ctx = cv.ctx, step = niceStep(v1 - v0, cv.pw / 110);
		var dec = Math.max(0, Math.min(6, -Math.floor(Math.log10(step / 1e6) + 1e-9)));
		ctx.fillStyle = '#5c667a';
		ctx.strokeStyle = '#eef0f4';
		ctx.textAlign = 'center';
		ctx.textBaseline = 'top';
		for (var t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
			var x = Math.round(xOf(cv, v0, v1, t)) + 0.5;
			ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, y); ctx.stroke();
			ctx.fillText((t / 1e6).toFixed(dec) + ' s', x, y + 4);
		}
		ctx.strokeStyle = '#c5ccd8';
		ctx.beginPath(); ctx.moveTo(L, y + 0.5); ctx.lineTo(L + cv.pw, y + 0.5); ctx.stroke();
	}
	function shadeFaults(cv, v0, v1, top, bottom, alpha) {
		var ctx = cv.ctx;
		ctx.save();
		ctx.globalAlpha = alpha;
		D.faults.forEach(function (f) {
			if (f.t1 < v0 || f.t0 > v1) return;
			var x0 = Math.max(L, xOf(cv, v0, v1, f.t0)), x1 = Math.min(L + cv.pw, xOf(cv, v0, v1, f.t1));
			ctx.fillStyle = kindColor[f.kind];
			ctx.fillRect(x0, top, Math.max(1, x1 - x0), bottom - top);
		});
		ctx.restore();
	}
	function legend(host, items) {
		host.textContent = '';
		items.forEach(function (it) {
			var s = el('span', null);
			var sw = el('i');
			sw.style.background = it[1];
			if (it[2]) sw.style.opacity = it[2];
			s.appendChild(sw);
			s.appendChild(document.createTextNode(it[0]));
			host.appendChild(s);
		});
	}

	/* A transparent RGBA buffer the size of a canvas, for drawing tens of
	 * thousands of small rectangles: writing pixels directly is an order of
	 * magnitude faster than one fillRect call each. flush() composites it
	 * over what the canvas already shows (grid, fault shading). */
	function rgb(hex) { return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)]; }
	function pixels(cv) {
		var r = window.devicePixelRatio || 1, W = cv.c.width, H = cv.c.height;
		var img = cv.ctx.createImageData(W, H), d = img.data;
		return {
			/* x, y, w, h in CSS pixels; c = [r, g, b]; a in 0..1 */
			rect: function (x, y, w, h, c, a) {
				var x0 = Math.max(0, Math.floor(x * r)), y0 = Math.max(0, Math.floor(y * r));
				var x1 = Math.min(W, Math.max(x0 + 1, Math.round((x + w) * r))), y1 = Math.min(H, Math.max(y0 + 1, Math.round((y + h) * r)));
				for (var yy = y0; yy < y1; yy++) {
					for (var i = (yy * W + x0) * 4, e = (yy * W + x1) * 4; i < e; i += 4) {
						if (a >= 1 || d[i + 3] === 0) {
							d[i] = c[0]; d[i + 1] = c[1]; d[i + 2] = c[2]; d[i + 3] = a * 255;
						} else { /* source over: blend with what is there */
							var da = d[i + 3] / 255, oa = a + da * (1 - a), k = da * (1 - a);
							d[i] = (c[0] * a + d[i] * k) / oa;
							d[i + 1] = (c[1] * a + d[i + 1] * k) / oa;
							d[i + 2] = (c[2] * a + d[i + 2] * k) / oa;
							d[i + 3] = oa * 255;
						}
					}
				}
			},
			flush: function () {
				var off = document.createElement('canvas');
				off.width = W;
				off.height = H;
				off.getContext('2d').putImageData(img, 0, 0);
				cv.ctx.save();
				cv.ctx.setTransform(1, 0, 0, 1, 0, 0);
				cv.ctx.drawImage(off, 0, 0);
				cv.ctx.restore();
			}
		};
	}
	var COLRGB = COL.map(rgb);

	/* ---- tooltip ---- */
	var tip = document.getElementById('tip');
	function showTip(ev, text) {
		tip.textContent = text;
		tip.hidden = false;
		var x = ev.clientX + 14, y = ev.clientY + 14;
		if (x + tip.offsetWidth > window.innerWidth - 8) x = ev.clientX - tip.offsetWidth - 14;
		if (y + tip.offsetHeight > window.innerHeight - 8) y = ev.clientY - tip.offsetHeight - 14;
		tip.style.left = x + 'px';
		tip.style.top = y + 'px';
	}
	function hideTip() { tip.hidden = true; }
	function opText(k) {
		var key = str('keys', O.k[k]), v = str('values', O.v[k]), node = str('nodes', O.n[k]), err = str('errors', O.e[k]);
		var lines = ['op #' + idx[k] + '   process ' + O.p[k],
			S.f[O.f[k]] + (key !== null ? '  key ' + key : '') + '  ' + (v === null ? 'nil' : v),
			TYN[ty[k]] + (O.d[k] >= 0 ? '   latency ' + fmtDur(O.d[k]) : '')];
		if (node !== null || err !== null)
			lines.push((node !== null ? 'node ' + node + '   ' : '') + (err !== null ? 'error ' + err : ''));
		lines.push('invoked ' + fmtT(t0[k]) + (O.d[k] >= 0 ? ', completed ' + fmtT(t1[k]) : ''));
		return lines.join('\n');
	}
	/* A partition's grudge {"n1":["n3",...],...} read as its sides
	 * "n1 n2 | n3 n4 n5"; a list of nodes as "n2, n5"; anything else as is. */
	function targetsLabel(text) {
		var v;
		try { v = JSON.parse(text); } catch (e) { return text || ''; }
		if (Array.isArray(v)) return v.map(function (x) { return typeof x === 'string' ? x : JSON.stringify(x); }).join(', ');
		if (!v || typeof v !== 'object') return text || '';
		var nodes = Object.keys(v), sides = {}, order = [];
		if (nodes.some(function (k) { return !Array.isArray(v[k]); })) return paramsLabel(v);
		for (var j = 0; j < nodes.length; j++) {
			var side = nodes.filter(function (x) { return v[nodes[j]].indexOf(x) < 0; }).sort().join(' ');
			if (!(side in sides)) { sides[side] = 1; order.push(side); }
		}
		return order.join(' | ');
	}
	/* {"n1":"killed","n2":"killed"} as "n1 n2 killed"; {"nodes":{...},
	 * "delay_ms":100} as "n1 n2 · delay_ms=100"; other objects as k=v. */
	function paramsLabel(v) {
		var keys = Object.keys(v), groups = {}, order = [];
		if (keys.every(function (k) { return typeof v[k] === 'string'; })) {
			keys.forEach(function (k) {
				if (!(v[k] in groups)) { groups[v[k]] = []; order.push(v[k]); }
				groups[v[k]].push(k);
			});
			return order.map(function (w) { return groups[w].join(' ') + ' ' + w; }).join(' | ');
		}
		var parts = [];
		if (v.nodes && typeof v.nodes === 'object' && !Array.isArray(v.nodes)) parts.push(Object.keys(v.nodes).join(' '));
		keys.forEach(function (k) {
			var x = v[k];
			if (k !== 'nodes' && (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') && x !== 0 && x !== '')
				parts.push(k + '=' + x);
		});
		return parts.join(' \u00b7 ');
	}
	function faultText(f) {
		return f.kind + '  ' + targetsLabel(f.targets) + '\n' + (f.targets || '') + '\n' + fmtT(f.t0) + ' \u2192 ' + fmtT(f.t1) +
			'  (' + fmtDur(f.t1 - f.t0) + ')';
	}

	var marks = {};

	/* ---- fault timeline: a row per fault kind ---- */
	function drawFaults() {
		var host = document.getElementById('faults'), rowH = 26;
		var rows = Math.max(kinds.length, 1), cv = canvas(host, rows * rowH + 30), ctx = cv.ctx;
		var axisY = rows * rowH + 6;
		timeAxis(cv, 0, END, 0, axisY, 0);
		ctx.textBaseline = 'middle';
		if (!kinds.length) {
			ctx.fillStyle = '#5c667a';
			ctx.textAlign = 'left';
			ctx.fillText('no faults were injected', L + 8, rowH / 2);
		}
		kinds.forEach(function (k, r) {
			ctx.fillStyle = '#1d2433';
			ctx.textAlign = 'right';
			ctx.fillText(k.length > 10 ? k.slice(0, 9) + '\u2026' : k, L - 8, r * rowH + rowH / 2);
		});
		D.faults.forEach(function (f) {
			var r = kinds.indexOf(f.kind), y = r * rowH + 3;
			var x0 = xOf(cv, 0, END, f.t0), x1 = Math.max(x0 + 2, xOf(cv, 0, END, f.t1));
			ctx.fillStyle = kindColor[f.kind];
			ctx.globalAlpha = 0.28;
			ctx.fillRect(x0, y, x1 - x0, rowH - 6);
			ctx.globalAlpha = 1;
			ctx.fillRect(x0, y, 2, rowH - 6);
			ctx.save();
			ctx.beginPath(); ctx.rect(x0, y, x1 - x0, rowH - 6); ctx.clip();
			ctx.fillStyle = '#1d2433';
			ctx.textAlign = 'left';
			ctx.fillText(targetsLabel(f.targets) || f.kind, x0 + 5, y + (rowH - 6) / 2);
			ctx.restore();
		});
		marks.faults = D.faults.length;
		cv.c.addEventListener('mousemove', function (ev) {
			var b = cv.c.getBoundingClientRect(), x = ev.clientX - b.left, y = ev.clientY - b.top;
			var r = Math.floor(y / rowH), t = (x - L) / cv.pw * END, tol = 3 / cv.pw * END;
			var hit = D.faults.filter(function (f) { return kinds.indexOf(f.kind) === r && f.t0 - tol <= t && t <= f.t1 + tol; });
			if (hit.length) showTip(ev, hit.map(faultText).join('\n\n')); else hideTip();
		});
		cv.c.addEventListener('mouseleave', hideTip);
	}

	/* ---- latency scatter, log scale ---- */
	function drawLatency() {
		var host = document.getElementById('latency'), cv = canvas(host, 300), ctx = cv.ctx;
		var top = 8, bottom = 270, lo = Infinity, hi = 0, k;
		for (k = 0; k < N; k++) if (O.d[k] >= 0) { var d = Math.max(O.d[k], 1); if (d < lo) lo = d; if (d > hi) hi = d; }
		if (hi === 0) { lo = 100; hi = 1e6; }
		var e0 = Math.floor(Math.log10(lo)), e1 = Math.max(Math.ceil(Math.log10(hi)), e0 + 1);
		function yOf(us) { return bottom - (Math.log10(Math.max(us, 1)) - e0) / (e1 - e0) * (bottom - top); }
		shadeFaults(cv, 0, END, top, bottom, 0.13);
		timeAxis(cv, 0, END, top, bottom);
		ctx.textAlign = 'right';
		ctx.textBaseline = 'middle';
		for (var e = e0; e <= e1; e++) {
			var y = Math.round(yOf(Math.pow(10, e))) + 0.5;
			ctx.strokeStyle = '#eef0f4';
			ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(L + cv.pw, y); ctx.stroke();
			ctx.fillStyle = '#5c667a';
			var us = Math.pow(10, e);
			ctx.fillText(us < 1000 ? us + ' \u00b5s' : us < 1e6 ? us / 1000 + ' ms' : us / 1e6 + ' s', L - 6, y);
		}
		var sz = N > 20000 ? 2 : N > 2000 ? 3 : 4, drawn = 0, px = pixels(cv), alpha = N > 20000 ? 0.55 : 0.8;
		var xs = cv.pw / END;
		[0, 2, 1].forEach(function (t) {
			for (k = 0; k < N; k++) {
				if (ty[k] !== t) continue;
				px.rect(L + t0[k] * xs - sz / 2, yOf(O.d[k]) - sz / 2, sz, sz, COLRGB[t], alpha);
				drawn++;
			}
		});
		px.flush();
		marks.latency = drawn;
		var counts = [0, 0, 0, 0];
		for (k = 0; k < N; k++) counts[ty[k]]++;
		legend(document.getElementById('lat-legend'), [0, 1, 2].map(function (t) {
			return [TYN[t] + ' (' + counts[t] + ')', COL[t]];
		}).concat(kinds.map(function (kd) { return ['fault: ' + kd, kindColor[kd], 0.35]; })));
	}

	/* ---- throughput per op kind ---- */
	function drawRate() {
		var host = document.getElementById('rate'), cv = canvas(host, 240), ctx = cv.ctx;
		var top = 8, bottom = 210, bucket = niceStep(END, 120), nb = Math.ceil(END / bucket) + 1;
		var series = S.f.map(function () { return [new Float64Array(nb), new Float64Array(nb)]; });
		for (var k = 0; k < N; k++) {
			if (ty[k] === 3) continue;
			series[O.f[k]][ty[k] === 0 ? 0 : 1][Math.floor(t1[k] / bucket)] += 1e6 / bucket;
		}
		var hi = 1;
		series.forEach(function (s) { for (var b = 0; b < nb; b++) hi = Math.max(hi, s[0][b], s[1][b]); });
		var ystep = niceStep(hi, 4);
		hi = Math.ceil(hi / ystep) * ystep;
		function yOf(v) { return bottom - v / hi * (bottom - top); }
		shadeFaults(cv, 0, END, top, bottom, 0.13);
		timeAxis(cv, 0, END, top, bottom);
		ctx.textAlign = 'right';
		ctx.textBaseline = 'middle';
		for (var v = 0; v <= hi; v += ystep) {
			var y = Math.round(yOf(v)) + 0.5;
			ctx.strokeStyle = '#eef0f4';
			ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(L + cv.pw, y); ctx.stroke();
			ctx.fillStyle = '#5c667a';
			ctx.fillText(String(+v.toPrecision(3)), L - 6, y);
		}
		ctx.save();
		ctx.translate(14, (top + bottom) / 2);
		ctx.rotate(-Math.PI / 2);
		ctx.textAlign = 'center';
		ctx.fillText('ops/s', 0, 0);
		ctx.restore();
		var segs = 0;
		series.forEach(function (s, f) {
			[0, 1].forEach(function (g) {
				ctx.strokeStyle = fColor[f];
				ctx.lineWidth = g ? 1.2 : 1.8;
				ctx.setLineDash(g ? [4, 3] : []);
				ctx.beginPath();
				for (var b = 0; b < nb - 1; b++) {
					var x = xOf(cv, 0, END, (b + 0.5) * bucket), y = yOf(s[g][b]);
					if (b) ctx.lineTo(x, y); else ctx.moveTo(x, y);
					segs++;
				}
				ctx.stroke();
			});
		});
		ctx.setLineDash([]);
		ctx.lineWidth = 1;
		marks.rate = segs;
		var items = [];
		S.f.forEach(function (f, k) { items.push([f + ' ok', fColor[k]]); items.push([f + ' fail/info (dashed)', fColor[k], 0.5]); });
		legend(document.getElementById('rate-legend'), items.concat([['bucket ' + fmtDur(bucket), '#fff']]));
	}

	/* ---- operations timeline: pan, zoom, hover, click ---- */
	var view = { v0: 0, v1: END }, tl = null, highlight = {}, selected = -1;
	function drawTimeline() {
		var host = document.getElementById('timeline'), lanes = Math.max(procs.length, 1);
		var laneH = Math.max(3, Math.min(18, Math.floor(560 / lanes))), top = 4;
		tl = canvas(host, lanes * laneH + top + 26);
		tl.laneH = laneH;
		tl.top = top;
		tl.axisY = top + lanes * laneH + 2;
		paintTimeline();
		bindTimeline();
	}
	function paintTimeline() {
		var cv = tl, ctx = cv.ctx, v0 = view.v0, v1 = view.v1, laneH = cv.laneH;
		ctx.clearRect(0, 0, cv.w, cv.h);
		shadeFaults(cv, v0, v1, cv.top, cv.axisY, 0.12);
		timeAxis(cv, v0, v1, cv.top, cv.axisY);
		ctx.textAlign = 'right';
		ctx.textBaseline = 'middle';
		ctx.fillStyle = '#5c667a';
		var every = Math.ceil(12 / laneH);
		procs.forEach(function (p, k) { if (k % every === 0) ctx.fillText((byWorker ? 'worker ' : 'p') + p, L - 6, cv.top + k * laneH + laneH / 2); });
		ctx.save();
		ctx.beginPath(); ctx.rect(L, 0, cv.pw, cv.h); ctx.clip();
		var lo = lowerBound(t0, v0 - maxDur), hi = lowerBound(t0, v1 + 1), scale = cv.pw / (v1 - v0);
		/* One cell per lane and device pixel column holds the most telling
		 * outcome drawn there (info > fail > ok > never completed): cost is
		 * bounded by the canvas size however many ops share a pixel. */
		var pad = laneH > 6 ? 1 : 0, drawn = 0, k, r = window.devicePixelRatio || 1;
		var W = cv.c.width, nl = procs.length, cells = new Uint8Array(nl * W);
		var PRIO = [2, 3, 4, 1], OF = [3, 0, 1, 2], xl = Math.floor(L * r), xr = Math.ceil((L + cv.pw) * r);
		var sc = scale * r, base = L * r - v0 * sc;
		for (k = lo; k < hi; k++) {
			if (t1[k] < v0) continue;
			var a = Math.max(xl, Math.floor(base + t0[k] * sc)), b = Math.min(xr, Math.max(a + 1, Math.round(base + t1[k] * sc)));
			var pr = PRIO[ty[k]], row = laneOf[k] * W;
			for (var x = a; x < b; x++) if (cells[row + x] < pr) cells[row + x] = pr;
			drawn++;
		}
		/* Every lane is one row of cells stretched to the lane's height:
		 * build an image one pixel high per lane and let drawImage scale it. */
		if (!nl) { /* no client ops at all */
			ctx.fillStyle = '#5c667a';
			ctx.textAlign = 'left';
			ctx.fillText('no client operations in the history', L + 8, cv.top + laneH / 2);
			ctx.restore();
			marks.timeline = 0;
			body.setAttribute('data-timeline-bars', '0');
			return;
		}
		var img = ctx.createImageData(W, nl), d = img.data;
		for (var ci = 0, i = 0; ci < cells.length; ci++, i += 4) {
			var c = cells[ci];
			if (!c) continue;
			var rgbc = COLRGB[OF[c - 1]];
			d[i] = rgbc[0]; d[i + 1] = rgbc[1]; d[i + 2] = rgbc[2]; d[i + 3] = 255;
		}
		if (!cv.off || cv.off.width !== W || cv.off.height !== nl) {
			cv.off = document.createElement('canvas');
			cv.off.width = W;
			cv.off.height = nl;
		}
		cv.off.getContext('2d').putImageData(img, 0, 0);
		ctx.save();
		ctx.setTransform(1, 0, 0, 1, 0, 0);
		ctx.imageSmoothingEnabled = false;
		for (var ln = 0; ln < nl; ln++) {
			var y0 = Math.round((cv.top + ln * laneH + pad) * r), y1 = Math.round((cv.top + (ln + 1) * laneH - pad) * r);
			ctx.drawImage(cv.off, xl, ln, xr - xl, 1, xl, y0, xr - xl, Math.max(1, y1 - y0));
		}
		ctx.restore();
		if (laneH >= 10 && hi - lo < 4000) { /* labels once bars are wide enough to hold them */
			ctx.fillStyle = '#fff';
			ctx.textAlign = 'left';
			for (k = lo; k < hi; k++) {
				var bx = L + (t0[k] - v0) * scale, bw = (t1[k] - t0[k]) * scale;
				if (bw < 40 || t1[k] < v0) continue;
				var v = str('values', O.v[k]);
				ctx.save();
				ctx.beginPath(); ctx.rect(bx, 0, bw, cv.h); ctx.clip();
				ctx.fillText(S.f[O.f[k]] + ' ' + (v === null ? 'nil' : v), Math.max(bx, L) + 3, cv.top + laneOf[k] * laneH + laneH / 2);
				ctx.restore();
			}
		}
		ctx.lineWidth = 2;
		Object.keys(highlight).forEach(function (kk) {
			k = +kk;
			if (t1[k] < v0 || t0[k] > v1) return;
			ctx.strokeStyle = highlight[kk];
			ctx.strokeRect(L + (t0[k] - v0) * scale - 1, cv.top + laneOf[k] * laneH, Math.max(3, (t1[k] - t0[k]) * scale + 2), laneH);
		});
		ctx.lineWidth = 1;
		ctx.restore();
		marks.timeline = drawn;
		body.setAttribute('data-timeline-bars', String(drawn));
		var rd = document.getElementById('tl-range');
		if (rd) rd.textContent = 'showing ' + fmtT(v0) + ' \u2192 ' + fmtT(v1) + ', ' + drawn + ' ops';
	}
	var raf = 0;
	function repaint() { if (!raf) raf = requestAnimationFrame(function () { raf = 0; paintTimeline(); }); }
	function setView(a, b) {
		var span = Math.max(b - a, 5);
		if (span > END) { a = 0; span = END; }
		a = Math.max(0, Math.min(a, END - span));
		view.v0 = a;
		view.v1 = a + span;
		repaint();
	}
	function opAt(x, y) {
		var cv = tl, lane = Math.floor((y - cv.top) / cv.laneH);
		if (lane < 0 || lane >= procs.length || x < L) return -1;
		var t = view.v0 + (x - L) / cv.pw * (view.v1 - view.v0), tol = 3 / cv.pw * (view.v1 - view.v0);
		var ops = laneOps[lane], lo = 0, hi = ops.length;
		while (lo < hi) { var mid = (lo + hi) >> 1; if (t0[ops[mid]] <= t + tol) lo = mid + 1; else hi = mid; }
		for (var j = lo - 1; j >= 0 && j >= lo - 3; j--) if (t1[ops[j]] >= t - tol) return ops[j];
		return -1;
	}
	var drag = null;
	window.addEventListener('mouseup', function (ev) {
		if (drag && !drag.moved && ev.target === tl.c) {
			var b = tl.c.getBoundingClientRect(), k = opAt(ev.clientX - b.left, ev.clientY - b.top);
			if (k >= 0) selectOp(k, false);
		}
		drag = null;
	});
	function bindTimeline() {
		var c = tl.c;
		c.style.cursor = 'crosshair';
		c.addEventListener('wheel', function (ev) {
			ev.preventDefault();
			var b = c.getBoundingClientRect(), x = ev.clientX - b.left;
			var span = view.v1 - view.v0, at = view.v0 + Math.max(0, x - L) / tl.pw * span;
			var z = ev.deltaY < 0 ? 1 / 1.25 : 1.25;
			setView(at - (at - view.v0) * z, at - (at - view.v0) * z + span * z);
		}, { passive: false });
		c.addEventListener('mousedown', function (ev) { drag = { x: ev.clientX, v0: view.v0, moved: false }; });
		c.addEventListener('mousemove', function (ev) {
			var b = c.getBoundingClientRect();
			if (drag) {
				var dx = ev.clientX - drag.x;
				if (Math.abs(dx) > 2) drag.moved = true;
				var span = view.v1 - view.v0;
				setView(drag.v0 - dx / tl.pw * span, drag.v0 - dx / tl.pw * span + span);
				hideTip();
				return;
			}
			var k = opAt(ev.clientX - b.left, ev.clientY - b.top);
			if (k >= 0) showTip(ev, opText(k)); else hideTip();
		});
		c.addEventListener('mouseleave', hideTip);
		c.addEventListener('dblclick', function () { setView(0, END); });
	}
	function findOp(index) {
		var k = lowerBound(idx, index); /* idx is increasing: the history is in order */
		return k < N && idx[k] === index ? k : -1;
	}
	function selectOp(k, zoom) {
		selected = k;
		var det = document.getElementById('op-detail');
		det.hidden = false;
		det.textContent = opText(k);
		Object.keys(highlight).forEach(function (h) { if (highlight[h] === '#1d2433') delete highlight[h]; });
		if (!(k in highlight)) highlight[k] = '#1d2433';
		if (zoom) {
			var pad = Math.max((t1[k] - t0[k]) * 4, 20000);
			setView(t0[k] - pad, t1[k] + pad);
		}
		repaint();
	}
	function timelineTools() {
		var tools = document.getElementById('tl-tools');
		var reset = el('button', 'Reset zoom');
		reset.addEventListener('click', function () { setView(0, END); });
		tools.appendChild(reset);
		if (D.failures.length) {
			var cx = el('button', 'Zoom to counterexample');
			cx.addEventListener('click', function () { zoomToFailure(0); });
			tools.appendChild(cx);
		}
		var rd = el('span');
		rd.id = 'tl-range';
		tools.appendChild(rd);
		var det = el('pre');
		det.id = 'op-detail';
		det.hidden = true;
		document.getElementById('timeline').parentNode.appendChild(det);
	}

	/* ---- counterexample ---- */
	function vtext(v) { return v === null || v === undefined ? 'nil' : JSON.stringify(v); }
	function ovtext(o) { return 'vt' in o ? (o.vt === null ? 'nil' : o.vt) : vtext(o.value); }
	function sameOp(a, b) {
		return a && b && a.process === b.process && a.f === b.f && JSON.stringify(a.value) === JSON.stringify(b.value);
	}
	function cexOps(fl) {
		var ops = (fl.concurrent || []).slice(), bad = -1;
		ops.forEach(function (o, k) { if (fl.op && (o.index === fl.op.index || (bad < 0 && sameOp(o, fl.op)))) bad = k; });
		if (bad < 0 && fl.op) {
			var o = fl.op;
			ops.push({ index: o.index, process: o.process, f: o.f, value: o.value, type: o.type,
				invoke_time: o.invoke_time !== undefined ? o.invoke_time : o.time,
				complete_time: o.complete_time !== undefined ? o.complete_time : -1 });
			bad = ops.length - 1;
		}
		/* The last ops linearized before it, from the history itself: they
		 * set the state the bad op contradicts (e.g. the write a stale read
		 * missed), though they may not overlap it. */
		var have = {};
		ops.forEach(function (o) { have[o.index] = true; });
		(fl.prefix || []).slice(-6).forEach(function (ix) {
			var k = findOp(ix);
			if (have[ix] || k < 0) return;
			ops.push({ index: ix, process: O.p[k], f: S.f[O.f[k]], vt: str('values', O.v[k]), type: TYN[ty[k]],
				invoke_time: t0[k] * 1000, complete_time: O.d[k] >= 0 ? t1[k] * 1000 : -1 });
		});
		return { ops: ops, bad: bad };
	}
	function zoomToFailure(n) {
		var fl = D.failures[n].f, c = cexOps(fl), a = Infinity, b = -Infinity;
		c.ops.forEach(function (o) {
			a = Math.min(a, o.invoke_time / 1000);
			b = Math.max(b, o.complete_time >= 0 ? o.complete_time / 1000 : o.invoke_time / 1000);
		});
		if (a === Infinity) return;
		var pad = Math.max((b - a) * 0.3, 2000);
		setView(a - pad, b + pad);
		document.getElementById('timeline').scrollIntoView({ block: 'center' });
	}
	function drawCex(host, fl, n) {
		var c = cexOps(fl), ops = c.ops;
		var prefix = {};
		(fl.prefix || []).forEach(function (x) { prefix[x] = true; });
		var words = el('p', null, 'cex-words');
		words.appendChild(el('b', D.failures[n].checker + (D.failures[n].model ? ' (' + D.failures[n].model + ')' : '') +
			(fl.key !== null && fl.key !== undefined ? ', key ' + fl.key : '') + ': '));
		words.appendChild(document.createTextNode(fl.message || 'the checker found no valid order of these ops'));
		host.appendChild(words);
		if (!ops.length) return;
		/* x is the order of events, not time: invokes and completions are
		 * what linearizability depends on, and an op seconds away (the write
		 * a stale read missed) stays as readable as one a microsecond away. */
		var times = [];
		ops.forEach(function (o) { times.push(o.invoke_time); if (o.complete_time >= 0) times.push(o.complete_time); });
		times.sort(function (x, y) { return x - y; });
		times = times.filter(function (t, j) { return j === 0 || t !== times[j - 1]; });
		var slots = times.length + 1;
		var ps = [];
		ops.forEach(function (o) { if (ps.indexOf(o.process) < 0) ps.push(o.process); });
		ps.sort(function (x, y) { return x - y; });
		var laneH = 30, cvHost = el('div', null, 'plot');
		host.appendChild(cvHost);
		var cv = canvas(cvHost, ps.length * laneH + 40), ctx = cv.ctx, top = 4;
		var axisY = top + ps.length * laneH + 2;
		function slotX(t) { return L + (times.indexOf(t) + 0.5) / slots * cv.pw; }
		ctx.textBaseline = 'middle';
		ps.forEach(function (p, k) {
			ctx.fillStyle = '#5c667a';
			ctx.textAlign = 'right';
			ctx.fillText('p' + p, L - 6, top + k * laneH + laneH / 2);
			ctx.strokeStyle = '#eef0f4';
			ctx.beginPath(); ctx.moveTo(L, top + (k + 1) * laneH + 0.5); ctx.lineTo(L + cv.pw, top + (k + 1) * laneH + 0.5); ctx.stroke();
		});
		var badOp = ops[c.bad];
		if (badOp) { /* the bad op's interval, across every lane */
			var bx0 = slotX(badOp.invoke_time), bx1 = badOp.complete_time >= 0 ? slotX(badOp.complete_time) : L + cv.pw;
			ctx.fillStyle = 'rgba(230,57,70,0.07)';
			ctx.fillRect(bx0, top, bx1 - bx0, axisY - top);
		}
		ctx.strokeStyle = '#c5ccd8';
		ctx.beginPath(); ctx.moveTo(L, axisY + 0.5); ctx.lineTo(L + cv.pw, axisY + 0.5); ctx.stroke();
		ctx.fillStyle = '#5c667a';
		ctx.textAlign = 'left';
		ctx.textBaseline = 'top';
		ctx.fillText('events in order (not to scale): ' + fmtT(times[0] / 1000) + ' \u2192 ' + fmtT(times[times.length - 1] / 1000), L, axisY + 6);
		ctx.textBaseline = 'middle';
		ops.forEach(function (o, k) {
			var y = top + ps.indexOf(o.process) * laneH + 4, h = laneH - 8;
			var x0 = slotX(o.invoke_time), done = o.complete_time >= 0;
			var x1 = done ? Math.max(x0 + 3, slotX(o.complete_time)) : x0;
			/* info: may take effect at any time after its invoke */
			var open = !done || o.type === 'info';
			var col = k === c.bad ? '#e63946' : prefix[o.index] ? '#2a9d8f' : '#8d99ae';
			ctx.fillStyle = col;
			if (open) {
				ctx.globalAlpha = 0.3;
				ctx.fillRect(x1, y, L + cv.pw - x1, h);
			}
			ctx.globalAlpha = 0.95;
			ctx.fillRect(x0, y, x1 - x0, h);
			ctx.globalAlpha = 1;
			if (k === c.bad) { ctx.lineWidth = 3; ctx.strokeStyle = '#7a0010'; ctx.strokeRect(x0, y, x1 - x0, h); ctx.lineWidth = 1; }
			ctx.save();
			var xe = open ? L + cv.pw : x1;
			ctx.beginPath(); ctx.rect(x0, y, xe - x0, h); ctx.clip();
			ctx.fillStyle = x1 - x0 > 60 ? '#fff' : '#1d2433';
			ctx.textAlign = 'left';
			ctx.font = 'bold 12px system-ui, "DejaVu Sans", sans-serif';
			ctx.fillText(o.f + ' ' + ovtext(o) + (o.type && o.type !== 'ok' ? ' (' + o.type + ')' : ''), x0 + 5, y + h / 2);
			ctx.restore();
		});
		marks.cex = (marks.cex || 0) + ops.length;
		var leg = el('div', null, 'legend');
		legend(leg, [['cannot be linearized', '#e63946'], ['in the longest linearizable prefix', '#2a9d8f'],
			['concurrent, not linearized', '#8d99ae'], ['info / no completion: may take effect later (faded)', '#8d99ae', 0.3]]);
		host.appendChild(leg);
		if (fl.states && fl.states.length)
			host.appendChild(el('p', 'Model states reachable just before it: ' + fl.states.slice(0, 20).join('  |  ') +
				(fl.states.length > 20 ? '  \u2026 (' + fl.states.length + ' in all)' : ''), 'cex-states'));
		var list = el('ol', null, 'cex-list');
		ops.slice().sort(function (x, y) { return x.invoke_time - y.invoke_time; }).forEach(function (o) {
			var bad = ops.indexOf(o) === c.bad;
			var li = el('li', 'p' + o.process + '  ' + o.f + ' ' + ovtext(o) + '  ' + (o.type || '?') +
				'  [' + fmtT(o.invoke_time / 1000) + ' \u2192 ' + (o.complete_time >= 0 ? fmtT(o.complete_time / 1000) : 'never') + ']' +
				'  op #' + o.index + (bad ? '   \u2190 cannot be linearized' : prefix[o.index] ? '   linearized' : ''),
				bad ? 'bad' : prefix[o.index] ? 'lin' : '');
			list.appendChild(li);
			var k = findOp(o.index);
			if (k >= 0) highlight[k] = bad ? '#7a0010' : '#e09f3e';
		});
		host.appendChild(list);
		var go = el('button', 'Show in the operations timeline');
		go.addEventListener('click', function () { zoomToFailure(n); });
		host.appendChild(go);
	}
	function drawFailures() {
		if (!D.failures.length) return;
		var sec = document.getElementById('why'), host = document.getElementById('cex');
		sec.hidden = false;
		host.textContent = '';
		D.failures.slice(0, 3).forEach(function (fl, n) {
			var box = el('div');
			if (n) box.style.marginTop = '18px';
			host.appendChild(box);
			drawCex(box, fl.f, n);
		});
		if (D.failures.length > 3)
			host.appendChild(el('p', (D.failures.length - 3) + ' more failure(s) in results.json', 'note'));
	}

	function drawResults() {
		var t = JSON.stringify(D.results, null, 2);
		if (t === undefined || D.results === null) t = 'results.json is missing: the run was not checked.';
		document.getElementById('results').textContent = t.length > 200000 ? t.slice(0, 200000) + '\n\u2026' : t;
	}

	function renderAll() {
		marks = {};
		drawFailures();
		drawFaults();
		drawLatency();
		drawRate();
		drawTimeline();
		body.setAttribute('data-ops', String(N));
		body.setAttribute('data-fault-intervals', String(marks.faults || 0));
		body.setAttribute('data-latency-points', String(marks.latency || 0));
		body.setAttribute('data-rate-segments', String(marks.rate || 0));
		body.setAttribute('data-cex-ops', String(marks.cex || 0));
	}

	if (byWorker)
		document.getElementById('tl-sub').textContent = 'a lane per worker: process p, then p + ' + D.concurrency +
			' once an op of p ended info; wheel to zoom, drag to pan, double-click to reset, hover for the op, click to pin it';
	timelineTools();
	drawResults();
	renderAll();
	/* #bench-zoom: time 20 timeline repaints from fully zoomed out to a
	 * 1/1000 slice (bench/report.sh reads data-ms-repaint). */
	if (location.hash === '#bench-zoom') {
		var tz = performance.now();
		for (var z = 0; z < 20; z++) {
			var span = END * Math.pow(0.7, z);
			view.v0 = (END - span) / 2;
			view.v1 = view.v0 + span;
			paintTimeline();
		}
		body.setAttribute('data-ms-repaint', ((performance.now() - tz) / 20).toFixed(1));
		view.v0 = 0;
		view.v1 = END;
		paintTimeline();
	}
	var m = /^#op=(\d+)$/.exec(location.hash);
	if (m) {
		var k = findOp(+m[1]);
		if (k >= 0) {
			selectOp(k, true);
			document.getElementById('tl-tools').scrollIntoView();
		}
	}
	var rt = 0, lastW = window.innerWidth;
	window.addEventListener('resize', function () {
		if (window.innerWidth === lastW) return;
		lastW = window.innerWidth;
		clearTimeout(rt);
		rt = setTimeout(function () {
			['faults', 'latency', 'rate'].forEach(function (id) { document.getElementById(id).textContent = ''; });
			document.getElementById('cex').textContent = '';
			renderAll();
			if (selected >= 0) selectOp(selected, false);
		}, 150);
	});
	/* Where the load time goes (read by bench/report.sh). */
	body.setAttribute('data-ms-before-script', String(Math.round(tStart)));
	body.setAttribute('data-ms-parse', String(Math.round(tParsed - tStart)));
	body.setAttribute('data-ms-render', String(Math.round(performance.now() - tParsed)));
	body.setAttribute('data-rendered', '1');
})();
