/*
 * report.js - draws report.html from the JSON that report.c embeds in the
 * script element with id fl-data (inlined into the page by
 * report_assets.c).
 *
 * The page answers "why" first: a headline and a table of every failure
 * (key, op, process, node, time, faults active then), the selected
 * failure drawn by the renderer registered for its kind (RENDERERS below:
 * one function and one table line per kind; a kind without one is shown
 * as pretty-printed JSON), then the time charts (faults, latency,
 * quantiles, throughput, operations) on one shared time axis that follows
 * the operations timeline's zoom, with the failures ticked on it.
 *
 * Safety rule: every string that came from a history, a config or a
 * database is put on the page with textContent, an SVG text node or canvas
 * fillText, never as markup. Speed rule: ops are typed-array columns; the
 * charts draw only what is in view, into pixel buffers, so 1,000,000 ops
 * load in a few seconds and pan and zoom smoothly. After rendering, counts
 * of what was drawn are written as data-* attributes on <body> (the tests
 * and the benchmark read them from the DOM).
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
	function mark(name, v) { body.setAttribute('data-' + name, String(v)); }

	var tStart = performance.now();
	var D = JSON.parse(document.getElementById('fl-data').textContent);
	var tParsed = performance.now();
	var S = D.strings, END = Math.max(D.end, 1);
	var RES = D.results || null;

	/* ---- outcome classes (report.c: TY_*) ---- */
	var TY_OK = 0, TY_FAIL = 1, TY_INFO = 2, TY_PENDING = 3, TY_EXPECTED = 4;
	var COL = ['#2a9d8f', '#e63946', '#f4a261', '#8d99ae', '#9cc5bf'];
	var TYN = ['ok', 'fail (error)', 'info', 'never completed', 'fail (expected)'];
	var TYWORD = ['ok', 'fail', 'info', 'never completed', 'fail'];
	var PALETTE = ['#3a86ff', '#8338ec', '#fb8500', '#06a77d', '#ff006e', '#8d6e63', '#118ab2', '#6a994e'];
	var FAILC = '#d62828';
	var L = 70, R = 18; /* plot margins shared by every time plot, so times line up */

	/* ---- decode the columns (report.c data_ops) ---- */
	var DEC = new Int8Array(128).fill(-1);
	(function () {
		for (var c = 0x23, n = 0; c <= 0x7e; c++)
			if (c !== 0x26 && c !== 0x3c && c !== 0x3e && c !== 0x5c) DEC[c] = n++;
	})();
	function decodeColumn(s, out, zig) {
		var v = 0, j = 0;
		for (var i = 0; i < s.length; i++) {
			var x = DEC[s.charCodeAt(i)];
			if (x >= 44) { v = v * 44 + (x - 44); continue; }
			v = v * 44 + x;
			out[j++] = zig ? (v % 2 ? -(v + 1) / 2 : v / 2) : v;
			v = 0;
		}
		return out;
	}
	var O = D.ops, N = O.n;
	var t0 = decodeColumn(O.t0, new Float64Array(N), true);
	var dur = decodeColumn(O.d, new Float64Array(N), false);
	var idx = decodeColumn(O.i, new Float64Array(N), true);
	var cidx = decodeColumn(O.ci, new Float64Array(N), true);
	var proc = decodeColumn(O.p, new Float64Array(N), true);
	var cls = decodeColumn(O.c, new Int32Array(N), false);
	var key = decodeColumn(O.k, new Int32Array(N), true);
	var val = decodeColumn(O.v, new Int32Array(N), false);
	var t1 = new Float64Array(N), fOf = new Int32Array(N), ty = new Int8Array(N), nodeOf = new Int32Array(N), errOf = new Int32Array(N);
	var maxDur = 0, i, k;
	(function () {
		var acc = 0, accI = 0, kk = -1, C = O.classes;
		for (var j = 0; j < N; j++) {
			acc += t0[j]; t0[j] = acc;
			accI += idx[j]; idx[j] = accI;
			cidx[j] = cidx[j] === 0 ? -1 : accI + cidx[j];
			dur[j] -= 1;
			t1[j] = dur[j] < 0 ? END : acc + dur[j];
			if (t1[j] - acc > maxDur) maxDur = t1[j] - acc;
			var c = cls[j] * 4;
			fOf[j] = C[c]; ty[j] = C[c + 1]; nodeOf[j] = C[c + 2]; errOf[j] = C[c + 3];
			kk += key[j]; key[j] = kk;
			val[j] -= 1;
		}
	})();

	/* Op lookup by invoke index (the ops are in invoke order, so binary
	 * search; a permutation if an imported history was not) and by
	 * completion index (built on first use). */
	var idxSorted = true;
	for (k = 1; k < N; k++) if (idx[k] < idx[k - 1]) { idxSorted = false; break; }
	var byIdx = null, byCidx = null;
	function lowerBound(arr, v, lo, hi) {
		lo = lo || 0; hi = hi === undefined ? arr.length : hi;
		while (lo < hi) { var mid = (lo + hi) >> 1; if (arr[mid] < v) lo = mid + 1; else hi = mid; }
		return lo;
	}
	function findOp(index) {
		if (idxSorted) { var j = lowerBound(idx, index); return j < N && idx[j] === index ? j : -1; }
		if (!byIdx) { byIdx = new Map(); for (var m = 0; m < N; m++) byIdx.set(idx[m], m); }
		return byIdx.has(index) ? byIdx.get(index) : -1;
	}
	/* An op by its invoke or completion index (a checker may cite either). */
	function findOpAny(index) {
		if (typeof index !== 'number') return -1;
		var j = findOp(index);
		if (j >= 0) return j;
		if (!byCidx) { byCidx = new Map(); for (var m = 0; m < N; m++) if (cidx[m] >= 0) byCidx.set(cidx[m], m); }
		return byCidx.has(index) ? byCidx.get(index) : -1;
	}

	/* Lanes. A process whose op ended info is retired and its worker goes
	 * on as process p + concurrency, so with the run's concurrency known
	 * each worker gets one lane holding its successive processes (they
	 * never overlap in time); otherwise, or if they would overlap, a lane
	 * per process. */
	var laneOf = new Int32Array(N), lanes, laneOps;
	/* The distinct processes, once (a Map lookup per op is the slowest
	 * part of loading a million ops otherwise). */
	var procIds = [], procSlot = new Int32Array(N);
	(function () {
		var seen = new Map(), last = NaN, lastSlot = -1;
		for (var j = 0; j < N; j++) {
			var p = proc[j];
			if (p !== last) {
				lastSlot = seen.get(p);
				if (lastSlot === undefined) { lastSlot = procIds.length; seen.set(p, lastSlot); procIds.push(p); }
				last = p;
			}
			procSlot[j] = lastSlot;
		}
	})();
	function assignLanes(keyOf) {
		var keys = [], seen = new Map();
		procIds.forEach(function (p) { var kk = keyOf(p); if (!seen.has(kk)) { seen.set(kk, 1); keys.push(kk); } });
		keys.sort(function (a, b) { return a - b; });
		var at = new Map();
		keys.forEach(function (kk, j) { at.set(kk, j); });
		var laneOfSlot = new Int32Array(procIds.length), count = new Int32Array(keys.length);
		procIds.forEach(function (p, s) { laneOfSlot[s] = at.get(keyOf(p)); });
		for (var j = 0; j < N; j++) { laneOf[j] = laneOfSlot[procSlot[j]]; count[laneOf[j]]++; }
		var ops = keys.map(function (kk, m) { return new Int32Array(count[m]); }), fill = new Int32Array(keys.length);
		for (j = 0; j < N; j++) ops[laneOf[j]][fill[laneOf[j]]++] = j;
		return { keys: keys, ops: ops };
	}
	function overlapping(ops) {
		for (var j = 0; j < ops.length; j++) {
			var end = -Infinity;
			for (var m = 0; m < ops[j].length; m++) {
				var kk = ops[j][m];
				if (t0[kk] < end) return true;
				if (ty[kk] !== TY_PENDING) end = t1[kk];
			}
		}
		return false;
	}
	var byWorker = false;
	if (D.concurrency > 0) {
		var la = assignLanes(function (p) { return p < 0 ? p : p % D.concurrency; });
		if (!overlapping(la.ops)) { byWorker = true; lanes = la; }
	}
	if (!byWorker) lanes = assignLanes(function (p) { return p; });
	laneOps = lanes.ops;
	var procs = lanes.keys;
	var kinds = [], kindColor = {};
	D.faults.forEach(function (f) {
		if (!(f.kind in kindColor)) { kindColor[f.kind] = PALETTE[kinds.length % PALETTE.length]; kinds.push(f.kind); }
	});
	var fColor = S.f.map(function (f, j) { return PALETTE[j % PALETTE.length]; });

	/* ---- small helpers ---- */
	function el(tag, text, cls) {
		var e = document.createElement(tag);
		if (text !== undefined && text !== null) e.textContent = String(text);
		if (cls) e.className = cls;
		return e;
	}
	var SVGNS = 'http://www.w3.org/2000/svg';
	function svg(tag, attrs, text) {
		var e = document.createElementNS(SVGNS, tag);
		for (var a in attrs) e.setAttribute(a, String(attrs[a]));
		if (text !== undefined) e.textContent = String(text);
		return e;
	}
	function str(tab, j) { return j < 0 ? null : S[tab][j]; }
	function procName(p) { return p === -2 ? 'anonymous' : p === -1 ? 'nemesis' : 'p' + p; }
	function vtext(v) { return v === null || v === undefined ? 'null' : typeof v === 'string' ? v : JSON.stringify(v); }
	function opValue(j) { var v = str('values', val[j]); return v === null ? 'null' : v; }
	function fmtDur(us) {
		if (us < 1000) return us.toFixed(0) + ' \u00b5s';
		if (us < 1e6) return (us / 1000).toFixed(us < 1e4 ? 2 : 1) + ' ms';
		return (us / 1e6).toFixed(3) + ' s';
	}
	function fmtT(us) { return (us / 1e6).toFixed(6) + ' s'; }
	function fmtS(us) { return (us / 1e6).toFixed(3) + ' s'; }
	/* Wall-clock time of a history time, to match the nodes' logs. */
	function fmtWall(us, withDate) {
		if (!D.wall0) return null;
		var w = D.wall0 + us, d = new Date(Math.floor(w / 1000)).toISOString();
		var micro = String(Math.floor(w) % 1000);
		while (micro.length < 3) micro = '0' + micro;
		return (withDate ? d.slice(0, 10) + ' ' : '') + d.slice(11, 23) + micro + ' UTC';
	}
	function niceStep(span, n) {
		var raw = span / Math.max(n, 1), p = Math.pow(10, Math.floor(Math.log10(raw))), m = raw / p;
		return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
	}
	function plural(n, one, many) { return n + ' ' + (n === 1 ? one : many || one + 's'); }
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
	function yTitle(cv, text, top, bottom) {
		var ctx = cv.ctx;
		ctx.save();
		ctx.fillStyle = '#5c667a';
		ctx.translate(11, (top + bottom) / 2);
		ctx.rotate(-Math.PI / 2);
		ctx.textAlign = 'center';
		ctx.textBaseline = 'middle';
		ctx.fillText(text, 0, 0);
		ctx.restore();
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
	/* text cut with an ellipsis to fit w pixels */
	function fitText(ctx, text, w) {
		if (ctx.measureText(text).width <= w) return text;
		if (w < 14) return '';
		var lo = 0, hi = text.length;
		while (lo < hi) {
			var mid = (lo + hi + 1) >> 1;
			if (ctx.measureText(text.slice(0, mid) + '\u2026').width <= w) lo = mid; else hi = mid - 1;
		}
		return lo ? text.slice(0, lo) + '\u2026' : '';
	}
	function legend(host, items) {
		host.textContent = '';
		items.forEach(function (it) {
			var s = el('span', null);
			var sw = el('i', it[3] || null);
			if (it[3]) { sw.className = 'shape'; sw.style.color = it[1]; } else sw.style.background = it[1];
			if (it[2]) sw.style.opacity = it[2];
			s.appendChild(sw);
			s.appendChild(document.createTextNode(it[0]));
			host.appendChild(s);
		});
	}

	/* A transparent RGBA buffer the size of a canvas, for drawing tens of
	 * thousands of small marks: writing pixels directly is an order of
	 * magnitude faster than one fillRect call each. flush() composites it
	 * over what the canvas already shows (grid, fault shading). */
	function rgb(hex) { return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)]; }
	/* The pixels of a mark (0 filled square, 1 hollow square, 2 plus,
	 * 3 cross) of size s CSS pixels, as dx, dy pairs, computed once. */
	var shapeCache = {};
	function shapeOffsets(s, shape) {
		var key = s + ':' + shape;
		if (shapeCache[key]) return shapeCache[key];
		var r = window.devicePixelRatio || 1, h = Math.max(1, Math.round(s * r / 2)), o = [], u, v;
		if (shape === 0) for (u = -h; u < h; u++) for (v = -h; v < h; v++) o.push(u, v);
		else if (shape === 1) for (u = -h; u <= h; u++) { o.push(u, -h, u, h); if (u > -h && u < h) o.push(-h, u, h, u); }
		else if (shape === 2) for (u = -h - 1; u <= h + 1; u++) { o.push(u, 0); if (u) o.push(0, u); }
		else for (u = -h - 1; u <= h + 1; u++) { o.push(u, u); if (u) o.push(u, -u); }
		return (shapeCache[key] = new Int16Array(o));
	}
	function pixels(cv) {
		var r = window.devicePixelRatio || 1, W = cv.c.width, H = cv.c.height;
		var img = cv.ctx.createImageData(W, H), d = img.data, u32 = new Uint32Array(d.buffer);
		function put(x, y, c, a) {
			if (x < 0 || y < 0 || x >= W || y >= H) return;
			if (a >= 1) { var o = (y * W + x) * 4; d[o] = c[0]; d[o + 1] = c[1]; d[o + 2] = c[2]; d[o + 3] = 255; return; }
			var i = (y * W + x) * 4;
			if (a >= 1 || d[i + 3] === 0) {
				d[i] = c[0]; d[i + 1] = c[1]; d[i + 2] = c[2]; d[i + 3] = a * 255;
			} else { /* source over: blend with what is there */
				var da = d[i + 3] / 255, oa = a + da * (1 - a), kk = da * (1 - a);
				d[i] = (c[0] * a + d[i] * kk) / oa;
				d[i + 1] = (c[1] * a + d[i + 1] * kk) / oa;
				d[i + 2] = (c[2] * a + d[i + 2] * kk) / oa;
				d[i + 3] = oa * 255;
			}
		}
		return {
			/* x, y, w, h in CSS pixels; c = [r, g, b]; a in 0..1 */
			rect: function (x, y, w, h, c, a) {
				var x0 = Math.max(0, Math.floor(x * r)), y0 = Math.max(0, Math.floor(y * r));
				var x1 = Math.min(W, Math.max(x0 + 1, Math.round((x + w) * r))), y1 = Math.min(H, Math.max(y0 + 1, Math.round((y + h) * r)));
				for (var yy = y0; yy < y1; yy++) for (var xx = x0; xx < x1; xx++) put(xx, yy, c, a);
			},
			/* a mark centred on x, y: 0 filled square, 1 hollow square, 2 plus, 3 cross */
			/* off: shapeOffsets(size, shape), looked up once per chart */
			shape: function (x, y, off, c, a) {
				var cx = Math.round(x * r), cy = Math.round(y * r), m;
				if (a >= 1) { /* opaque: one 32-bit store per pixel */
					var col = c[3] || (c[3] = (255 << 24 | c[2] << 16 | c[1] << 8 | c[0]) >>> 0);
					for (m = 0; m < off.length; m += 2) {
						var px = cx + off[m], py = cy + off[m + 1];
						if (px >= 0 && py >= 0 && px < W && py < H) u32[py * W + px] = col;
					}
					return;
				}
				for (m = 0; m < off.length; m += 2) put(cx + off[m], cy + off[m + 1], c, a);
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
	var COLRGB = COL.map(rgb), FCOLRGB = fColor.map(rgb);

	/* ---- tooltip ---- */
	var tip = document.getElementById('tip');
	function showTip(ev, text) {
		tip.textContent = text;
		tip.hidden = false;
		var x = ev.clientX + 14, y = ev.clientY + 14;
		if (x + tip.offsetWidth > window.innerWidth - 8) x = ev.clientX - tip.offsetWidth - 14;
		if (y + tip.offsetHeight > window.innerHeight - 8) y = ev.clientY - tip.offsetHeight - 14;
		tip.style.left = Math.max(4, x) + 'px';
		tip.style.top = Math.max(4, y) + 'px';
	}
	function hideTip() { tip.hidden = true; }
	function opText(j, extra) {
		var kk = str('keys', key[j]), node = str('nodes', nodeOf[j]), err = str('errors', errOf[j]);
		var lines = ['op #' + idx[j] + (cidx[j] >= 0 ? ' (completed as #' + cidx[j] + ')' : '') + '   ' + procName(proc[j]),
			S.f[fOf[j]] + (kk !== null ? '  key ' + kk : '') + '  ' + opValue(j),
			TYN[ty[j]] + (dur[j] >= 0 ? '   latency ' + fmtDur(dur[j]) : '')];
		if (node !== null || err !== null)
			lines.push((node !== null ? 'node ' + node + '   ' : '') + (err !== null ? 'error ' + err : ''));
		lines.push('invoked ' + fmtT(t0[j]) + (dur[j] >= 0 ? ', completed ' + fmtT(t1[j]) : ''));
		var w = fmtWall(t0[j], true);
		if (w) lines.push('wall clock ' + w + (dur[j] >= 0 ? ' \u2192 ' + fmtWall(t1[j]) : ''));
		if (extra) lines.push(extra);
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
		if (nodes.some(function (n) { return !Array.isArray(v[n]); })) return paramsLabel(v);
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
		if (keys.every(function (kk) { return typeof v[kk] === 'string'; })) {
			keys.forEach(function (kk) {
				if (!(v[kk] in groups)) { groups[v[kk]] = []; order.push(v[kk]); }
				groups[v[kk]].push(kk);
			});
			return order.map(function (w) { return groups[w].join(' ') + ' ' + w; }).join(' | ');
		}
		var parts = [];
		if (v.nodes && typeof v.nodes === 'object' && !Array.isArray(v.nodes)) parts.push(Object.keys(v.nodes).join(' '));
		keys.forEach(function (kk) {
			var x = v[kk];
			if (kk !== 'nodes' && (typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean') && x !== 0 && x !== '')
				parts.push(kk + '=' + x);
		});
		return parts.join(' \u00b7 ');
	}
	function faultText(f) {
		return f.kind + '  ' + targetsLabel(f.targets) + '\n' + (f.targets || '') + '\n' + fmtT(f.t0) + ' \u2192 ' + fmtT(f.t1) +
			'  (' + fmtDur(f.t1 - f.t0) + ')';
	}
	/* The faults active at some moment of [a, b] (µs). */
	function faultsDuring(a, b) { return D.faults.filter(function (f) { return f.t0 <= b && f.t1 >= a; }); }
	function faultsWords(fs) {
		return fs.length ? fs.map(function (f) { var t = targetsLabel(f.targets); return f.kind + (t ? ' ' + t : ''); }).join('; ') : 'none';
	}
	/* "n2, n3, n4, n5" as "n2\u2013n5" when the names run in sequence. */
	function nodeRange(names) {
		var m = names.map(function (n) { return /^(.*?)(\d+)$/.exec(n); });
		if (names.length > 2 && m.every(function (x, j) { return x && x[1] === m[0][1] && (!j || +x[2] === +m[j - 1][2] + 1); }))
			return names[0] + '\u2013' + names[names.length - 1];
		return names.join(', ');
	}
	function allNodeNames() {
		var names = (D.nodes || []).map(function (n) { return n[0]; });
		return names.length ? names : S.nodes.slice();
	}
	function nodeSort(a, b) {
		var x = /^(.*?)(\d+)$/.exec(a), y = /^(.*?)(\d+)$/.exec(b);
		if (x && y && x[1] === y[1]) return x[2] - y[2];
		return a < b ? -1 : a > b ? 1 : 0;
	}

	/* ================================================================
	 * Failures: every "failures" entry of every checker in results.json
	 * ================================================================ */
	var FAILS = [];
	(function () {
		var cs = RES && RES.checkers;
		if (cs && typeof cs === 'object') {
			Object.keys(cs).forEach(function (name) {
				var c = cs[name];
				if (!c || !Array.isArray(c.failures)) return;
				c.failures.forEach(function (f, j) { FAILS.push({ checker: name, result: c, model: c.model || null, f: f, n: j }); });
			});
		} else if (RES && Array.isArray(RES.failures)) {
			RES.failures.forEach(function (f, j) { FAILS.push({ checker: 'check', result: RES, model: RES.model || null, f: f, n: j }); });
		}
	})();
	function kindOf(f) {
		if (f && typeof f.kind === 'string') return f.kind;
		if (f && (f.concurrent || f.op)) return 'nonlinearizable'; /* results from before kinds */
		return 'unknown';
	}
	/* Elle's cycle kinds come with -item, -process and -realtime variants
	 * that draw the same way. */
	function baseKind(kind) { return kind.replace(/(-item)?(-process|-realtime)?$/, ''); }

	/* Objects in a failure that look like ops (an integer index and an f,
	 * process, type or value), in order, each once. */
	function opRefs(f) {
		var out = [], seen = {};
		function walk(v, depth) {
			if (!v || typeof v !== 'object' || depth > 3) return;
			if (Array.isArray(v)) { v.forEach(function (x) { walk(x, depth + 1); }); return; }
			if (typeof v.index === 'number' && ('f' in v || 'process' in v || 'type' in v || 'value' in v)) {
				if (!seen[v.index]) { seen[v.index] = 1; out.push(v); }
				return;
			}
			Object.keys(v).forEach(function (kk) { if (kk !== 'prefix' && kk !== 'concurrent') walk(v[kk], depth + 1); });
		}
		walk(f, 0);
		return out;
	}

	/* ---- the linearizability models the page can replay ----
	 * A counterexample lists the longest linearizable prefix in
	 * linearization order; replaying it gives the model state after each op,
	 * as Knossos and Porcupine show. One step function per model: (state
	 * text, f, value text) -> new state text, or undefined if illegal. */
	function isRead(f) { return f === 'read' || f === 'r' || f === 'get'; }
	function isWrite(f) { return f === 'write' || f === 'w' || f === 'put'; }
	function stepRegister(s, f, v, cas) {
		if (isRead(f)) return v === s ? s : undefined;
		if (isWrite(f)) return v;
		if (cas && (f === 'cas' || f === 'compare-and-set')) {
			var p;
			try { p = JSON.parse(v); } catch (e) { return undefined; }
			if (!Array.isArray(p) || p.length !== 2) return undefined;
			return JSON.stringify(p[0]) === s ? JSON.stringify(p[1]) : undefined;
		}
		return undefined;
	}
	var MODELS = {
		'register': { init: 'null', step: function (s, f, v) { return stepRegister(s, f, v, false); } },
		'cas-register': { init: 'null', step: function (s, f, v) { return stepRegister(s, f, v, true); } }
	};

	/* The longest linearizable prefix of a nonlinearizable failure, as ops
	 * of the history with the model state after each (null states when the
	 * model cannot be replayed here). */
	function linearization(x) {
		var fl = x.f, model = MODELS[x.model], rows = [], s = model ? model.init : null, ok = !!model && Array.isArray(fl.prefix);
		/* A checker may give the states itself (the model's own words after
		 * each prefix op): then no replay is needed, for any model. */
		var given = Array.isArray(fl.prefix_states) && fl.prefix && fl.prefix_states.length === fl.prefix.length;
		if (given) {
			(fl.prefix || []).forEach(function (index, pos) {
				var st = fl.prefix_states[pos];
				rows.push({ pos: pos, index: index, k: findOpAny(index), state: st === null || st === undefined ? null : String(st), before: null });
			});
			var last = rows.length ? rows[rows.length - 1].state : null;
			rows.forEach(function (r, j) { r.before = j ? rows[j - 1].state : null; });
			return { rows: rows, replayed: true, given: true, final: last, agrees: true };
		}
		(fl.prefix || []).forEach(function (index, pos) {
			var j = findOpAny(index);
			if (j < 0) { ok = false; rows.push({ pos: pos, index: index, k: -1, state: null }); return; }
			if (ok) {
				var n = model.step(s, S.f[fOf[j]], ty[j] === TY_OK || !isRead(S.f[fOf[j]]) ? opValue(j) : s);
				if (n === undefined) ok = false; else s = n;
			}
			rows.push({ pos: pos, index: index, k: j, state: ok ? s : null, before: null });
		});
		var prev = model ? model.init : null;
		rows.forEach(function (r) { r.before = prev; prev = r.state; });
		var states = (fl.states || []).map(String);
		return { rows: rows, replayed: ok && !!model, final: ok ? s : null,
			agrees: ok && !!model && (!states.length || states.indexOf(s) >= 0) };
	}
	function blamedOp(fl) { return fl.op ? findOpAny(fl.op.index) : -1; }

	var WHAT = {
		'lost': ['lost element', 'lost elements'], 'stale': ['stale element', 'stale elements'],
		'flapping': ['flapping element', 'flapping elements'], 'failed-add-present': ['failed add that took effect', 'failed adds that took effect'],
		'unexpected': ['unexpected element', 'unexpected elements'], 'duplicated': ['duplicated element', 'duplicated elements'],
		'wrong-total': ['read with a wrong total', 'reads with a wrong total'], 'negative-balance': ['read with a negative balance', 'reads with a negative balance'],
		'missing-account': ['read missing an account', 'reads missing an account'], 'unexpected-account': ['read with an unknown account', 'reads with an unknown account'],
		'bad-balance': ['read with a non-integer balance', 'reads with a non-integer balance'],
		'counter-out-of-bounds': ['counter read out of bounds', 'counter reads out of bounds'],
		'fencing-backwards': ['fencing token going backwards', 'fencing tokens going backwards']
	};
	/* What a failure is, in words: "stale read" when a read returned a
	 * state the register had held before (or its initial null) and no
	 * longer could, else the op and "cannot be linearized"; for other kinds
	 * the kind itself. */
	function whatOf(x) {
		var kind = kindOf(x.f);
		if (kind === 'nonlinearizable') {
			var fl = x.f, f = fl.op && fl.op.f;
			if (f && isRead(f)) {
				var lin = x.lin || (x.lin = linearization(x));
				var v = vtext(fl.op.value);
				if (lin.replayed) {
					var init = MODELS[x.model] ? MODELS[x.model].init : 'null';
					var held = v === init || lin.rows.some(function (r) { return r.state === v; });
					return held ? ['stale read', 'stale reads'] : ['read of a value never written', 'reads of values never written'];
				}
				return ['read that cannot be linearized', 'reads that cannot be linearized'];
			}
			return [(f || 'op') + ' that cannot be linearized', (f || 'op') + 's that cannot be linearized'];
		}
		if (/^G/.test(kind)) return [kind + ' anomaly', kind + ' anomalies'];
		if (WHAT[kind]) return WHAT[kind];
		return [kind + ' failure', kind + ' failures'];
	}

	/* Facts of a failure for the table: its ops in the history, keys,
	 * processes, nodes, time span and the faults active then. */
	function facts(x) {
		if (x.fx) return x.fx;
		var fl = x.f, kind = kindOf(fl), ops = [], refs = kind === 'nonlinearizable' && fl.op ? [fl.op] : opRefs(fl);
		refs.forEach(function (o) { var j = findOpAny(o.index); if (j >= 0 && ops.indexOf(j) < 0) ops.push(j); });
		var keys = [];
		function addKey(kk) { if (kk !== null && kk !== undefined && keys.indexOf(String(kk)) < 0) keys.push(String(kk)); }
		if (fl.key !== undefined) addKey(fl.key);
		(fl.edges || []).forEach(function (e) { addKey(e.key); });
		if (!keys.length) ops.forEach(function (j) { addKey(str('keys', key[j])); });
		var a = Infinity, b = -Infinity;
		ops.forEach(function (j) { a = Math.min(a, t0[j]); b = Math.max(b, ty[j] === TY_PENDING ? t0[j] : t1[j]); });
		if (!ops.length && fl.op && typeof fl.op.invoke_time === 'number') {
			a = fl.op.invoke_time / 1000;
			b = fl.op.complete_time >= 0 ? fl.op.complete_time / 1000 : a;
		}
		var nodes = [], ps = [];
		ops.forEach(function (j) {
			var n = str('nodes', nodeOf[j]);
			if (n !== null && nodes.indexOf(n) < 0) nodes.push(n);
			if (ps.indexOf(proc[j]) < 0) ps.push(proc[j]);
		});
		if (!ops.length) refs.forEach(function (o) { if (typeof o.process === 'number' && ps.indexOf(o.process) < 0) ps.push(o.process); });
		var what = whatOf(x);
		/* the op a failure is about: the blamed op, a set element's add, else the last it names */
		var main = kind === 'nonlinearizable' || fl.op && typeof fl.op.index === 'number' ? blamedOp(fl)
			: fl.add && typeof fl.add.index === 'number' ? findOpAny(fl.add.index) : ops.length ? ops[ops.length - 1] : -1;
		x.fx = { kind: kind, ops: ops, main: main,
			keys: keys, nodes: nodes.sort(nodeSort), procs: ps, t0: a === Infinity ? null : a, t1: b === -Infinity ? null : b,
			faults: a === Infinity ? [] : faultsDuring(a, b), what: what[0], whats: what[1] };
		return x.fx;
	}

	/* "16 stale reads on 16 of 124 keys, all served by n2–n5 (never n1),
	 * none during a fault (all before the first, at 6.27 s)". */
	function headline() {
		var groups = {}, order = [];
		FAILS.forEach(function (x) {
			var fx = facts(x);
			if (!(fx.what in groups)) { groups[fx.what] = { n: 0, many: fx.whats }; order.push(fx.what); }
			groups[fx.what].n++;
		});
		var parts = [order.map(function (w) { var g = groups[w]; return g.n + ' ' + (g.n === 1 ? w : g.many); }).join(', ')];
		var keys = {}, nk = 0;
		FAILS.forEach(function (x) { facts(x).keys.forEach(function (kk) { if (!keys[kk]) { keys[kk] = 1; nk++; } }); });
		if (nk && S.keys.length) parts[0] += ' on ' + nk + ' of ' + plural(S.keys.length, 'key');
		var served = {}, ns = [];
		FAILS.forEach(function (x) { var fx = facts(x); if (fx.main >= 0) { var n = str('nodes', nodeOf[fx.main]); if (n !== null && !served[n]) { served[n] = 1; ns.push(n); } } });
		ns.sort(nodeSort);
		if (ns.length) {
			var all = allNodeNames(), never = all.filter(function (n) { return !served[n]; });
			if (ns.length === 1) parts.push('all served by ' + ns[0] + (never.length ? ' (never ' + nodeRange(never) + ')' : ''));
			else if (!never.length) parts.push('served by every node');
			else parts.push('all served by ' + nodeRange(ns) + ' (never ' + nodeRange(never) + ')');
		}
		var timed = FAILS.filter(function (x) { return facts(x).t0 !== null; });
		if (!D.faults.length) parts.push('no faults were injected');
		else if (timed.length) {
			var during = timed.filter(function (x) { return facts(x).faults.length; }).length;
			var first = Math.min.apply(null, D.faults.map(function (f) { return f.t0; }));
			var before = timed.every(function (x) { return facts(x).t1 < first; });
			if (!during) parts.push((timed.length === 1 ? 'not' : 'none') + ' during a fault' + (before ? ' (' + (timed.length === 1 ? 'before' : 'all before') + ' the first, at ' + fmtS(first) + ')' : ''));
			else parts.push(during + ' of ' + timed.length + ' during faults');
		}
		var more = [];
		var cs = RES && RES.checkers || {};
		Object.keys(cs).forEach(function (name) {
			var c = cs[name], listed = Array.isArray(c.failures) ? c.failures.length : 0;
			if (typeof c.invalid_keys === 'number' && c.invalid_keys > listed)
				more.push(name + ' found ' + c.invalid_keys + ' invalid keys and lists the first ' + listed + ' (results.json)');
			else if (typeof c.failures_omitted === 'number' && c.failures_omitted > 0)
				more.push(name + ' found ' + (listed + c.failures_omitted) + ' failures and details the first ' + listed + ' (results.json counts the rest)');
		});
		return parts.join(', ') + (more.length ? '. ' + more.join('; ') : '') + '.';
	}

	/* ================================================================
	 * Renderers by failure kind: one function each, one line in RENDERERS.
	 * A renderer gets (host, x, fx): x = {checker, model, f, result}, the
	 * failure f as results.json has it, fx = facts(x).
	 * ================================================================ */
	var highlight = {}, selected = -1;
	var RENDERERS = {
		'nonlinearizable': renderLinearizable,
		'G0': renderCycle, 'G1c': renderCycle, 'G-single': renderCycle, 'G-nonadjacent': renderCycle, 'G2': renderCycle,
		'G1a': renderOps, 'G1b': renderOps, 'internal': renderOps, 'lost-update': renderOps,
		'incompatible-order': renderOps, 'duplicate-elements': renderOps, 'cyclic-versions': renderOps,
		'future-read': renderOps, 'dirty-update': renderOps,
		'lost': renderSetFull, 'stale': renderSetFull, 'flapping': renderSetFull, 'failed-add-present': renderSetFull,
		'unexpected': renderSetFull, 'duplicated': renderSetFull,
		'wrong-total': renderBank, 'negative-balance': renderBank, 'missing-account': renderBank,
		'unexpected-account': renderBank, 'bad-balance': renderBank,
		'counter-out-of-bounds': renderCounter,
		'fencing-backwards': renderLock
	};
	function rendererFor(x) {
		var kind = kindOf(x.f);
		if (x.f && x.f.too_large) return renderJSON;
		/* the lock checker's mutex counterexamples carry the holders */
		if (kind === 'nonlinearizable' && x.f && Array.isArray(x.f.holders) && x.f.holders.length) return renderLock;
		return RENDERERS[kind] || RENDERERS[baseKind(kind)] || (x.f && x.f.txns && x.f.edges ? renderCycle : renderJSON);
	}

	function opLink(index, text) {
		var a = el('a', text || '#' + index);
		a.href = '#op=' + index;
		a.addEventListener('click', function (ev) {
			ev.preventDefault();
			var j = findOpAny(index);
			if (j >= 0) { selectOp(j, true); document.getElementById('tl-tools').scrollIntoView({ block: 'start' }); }
		});
		return a;
	}
	function nodeLink(name) {
		var files = D.logs && D.logs[name];
		if (!files || !files.length) return el('span', name);
		var a = el('a', name);
		a.href = files[0];
		a.title = 'log: ' + files.join(', ');
		return a;
	}
	function jsonBlock(f, open) {
		var d = el('details', null, 'json');
		if (open) d.open = true;
		d.appendChild(el('summary', 'the failure as results.json has it'));
		var t = JSON.stringify(f, null, 2);
		d.appendChild(el('pre', t.length > 400000 ? t.slice(0, 400000) + '\n\u2026' : t));
		return d;
	}
	function zoomToOps(ops) {
		var a = Infinity, b = -Infinity;
		ops.forEach(function (j) { a = Math.min(a, t0[j]); b = Math.max(b, ty[j] === TY_PENDING ? t0[j] : t1[j]); });
		if (a === Infinity) return;
		var pad = Math.max((b - a) * 0.3, 2000);
		setView(a - pad, b + pad);
		document.getElementById('timeline').scrollIntoView({ block: 'center' });
	}
	function timelineButton(host, ops) {
		if (!ops.length) return;
		var go = el('button', 'Show in the operations timeline');
		go.addEventListener('click', function () { zoomToOps(ops); });
		host.appendChild(go);
	}

	/* ---- nonlinearizable: the ops that set the state, in linearization
	 * order with the state after each, then the op that cannot follow ---- */
	function causeRows(x, lin) {
		var fl = x.f, bad = blamedOp(fl), rows = lin.rows, n = rows.length;
		if (!n) return [];
		var badT0 = bad >= 0 ? t0[bad] : fl.op && fl.op.invoke_time / 1000;
		function sets(r) { return r.k >= 0 && !isRead(S.f[fOf[r.k]]); }
		function doneBefore(r) { return r.k >= 0 && ty[r.k] !== TY_PENDING && t1[r.k] < badT0; }
		var s1 = -1, s2 = -1, w = -1, j;
		for (j = n - 1; j >= 0; j--) if (sets(rows[j]) && doneBefore(rows[j])) { if (s1 < 0) s1 = j; else { s2 = j; break; } }
		if (fl.op && isRead(fl.op.f) && lin.replayed) {
			var v = vtext(fl.op.value);
			for (j = n - 1; j >= 0; j--) if (rows[j].state === v && sets(rows[j])) { w = j; break; }
		}
		var start = Math.min.apply(null, [s2, s1, w].filter(function (p) { return p >= 0; }).concat([n]));
		if (start === n) start = Math.max(0, n - 6);
		var keep = {};
		var concurrentIdx = {};
		(fl.concurrent || []).forEach(function (o) { concurrentIdx[o.index] = 1; });
		var setters = [];
		for (j = start; j < n; j++) if (sets(rows[j])) setters.push(j);
		if (n - start <= 14) for (j = start; j < n; j++) keep[j] = 1;
		else {
			[start, s1, s2, w].forEach(function (p) { if (p >= 0) keep[p] = 1; });
			setters.slice(-8).forEach(function (p) { keep[p] = 1; });
			for (j = start; j < n; j++) if (concurrentIdx[rows[j].index]) keep[j] = 1;
			for (j = Math.max(start, n - 4); j < n; j++) keep[j] = 1;
		}
		var out = [];
		if (start > 0) out.push({ gap: start });
		var last = start - 1;
		for (j = start; j < n; j++) {
			if (!keep[j]) continue;
			if (j > last + 1) out.push({ gap: j - last - 1 });
			out.push(rows[j]);
			last = j;
		}
		return out;
	}
	function renderLinearizable(host, x, fx) {
		var fl = x.f, lin = x.lin || (x.lin = linearization(x)), bad = blamedOp(fl);
		var rows = causeRows(x, lin), opsIn = {};
		rows.forEach(function (r) { if (r.k >= 0) opsIn[r.k] = r; });
		var prefix = {};
		(fl.prefix || []).forEach(function (ix) { prefix[ix] = 1; });
		/* The table: linearization order, state after each op. */
		var tbl = el('table', null, 'lin'), th = el('tr');
		['#', 'op', 'process', 'node', 'invoked \u2192 completed', 'outcome', lin.replayed ? 'state after' : ''].forEach(function (h) { th.appendChild(el('th', h)); });
		var thead = el('thead'); thead.appendChild(th); tbl.appendChild(thead);
		var tb = el('tbody');
		var nrows = 0, nstates = 0;
		function opRow(j, pos, state, cls, note) {
			var tr = el('tr', null, cls);
			tr.appendChild(el('td', pos));
			var td = el('td');
			td.appendChild(opLink(idx[j], S.f[fOf[j]] + ' ' + opValue(j)));
			td.appendChild(el('small', '  #' + idx[j]));
			tr.appendChild(td);
			tr.appendChild(el('td', procName(proc[j])));
			var nd = el('td'), nn = str('nodes', nodeOf[j]);
			if (nn !== null) nd.appendChild(nodeLink(nn)); else nd.textContent = '\u2013';
			tr.appendChild(nd);
			tr.appendChild(el('td', fmtS(t0[j]) + ' \u2192 ' + (ty[j] === TY_PENDING ? 'never' : fmtS(t1[j]))));
			tr.appendChild(el('td', TYWORD[ty[j]]));
			tr.appendChild(el('td', state === null || state === undefined ? '' : state, 'state'));
			if (note) tr.lastChild.appendChild(el('small', note));
			tr.addEventListener('mouseenter', function (ev) { hoverOp(j, true); showTip(ev, opText(j, state !== null && state !== undefined ? 'model state after it: ' + state : '')); });
			tr.addEventListener('mouseleave', function () { hoverOp(j, false); hideTip(); });
			tb.appendChild(tr);
			nrows++;
			if (state !== null && state !== undefined && cls !== 'bad') nstates++;
		}
		rows.forEach(function (r) {
			if (r.gap) {
				var tr = el('tr', null, 'gap');
				var td = el('td', '\u22ee ' + plural(r.gap, 'earlier op') + ' of the linearization (in results.json, "prefix")');
				td.colSpan = 7;
				tr.appendChild(td);
				tb.appendChild(tr);
				return;
			}
			if (r.k < 0) return;
			opRow(r.k, r.pos + 1, r.state, sets(r) ? 'set' : '', '');
		});
		function sets(r) { return r.k >= 0 && !isRead(S.f[fOf[r.k]]); }
		if (bad >= 0) {
			var states = (fl.states || []).join(' or ');
			opRow(bad, '\u2717', states ? 'impossible: the state is ' + states : 'impossible', 'bad', '');
		}
		var conc = (fl.concurrent || []).map(function (o) { return findOpAny(o.index); })
			.filter(function (j) { return j >= 0 && !prefix[idx[j]] && j !== bad; });
		if (conc.length) {
			var tr = el('tr', null, 'gap');
			var td = el('td', 'concurrent with it, not linearized before it:');
			td.colSpan = 7;
			tr.appendChild(td);
			tb.appendChild(tr);
			conc.forEach(function (j) { opRow(j, '', '', 'conc', ''); });
		}
		tbl.appendChild(tb);
		var note = el('p', null, 'note');
		note.textContent = lin.given
			? 'The checker\u2019s longest linearizable prefix, in linearization order, with the ' + (x.model || 'model') + ' state after each op as the checker gives it. Bold: ops that set the state. Hover a row for the op.'
			: lin.replayed
			? 'The checker\u2019s longest linearizable prefix, in linearization order, replayed on the ' + x.model + ' model (state after each op' +
			  (lin.agrees ? '' : '; the replay ends in ' + lin.final + ', not in the checker\u2019s states') + '). Bold: ops that set the state. Hover a row for the op.'
			: 'The checker\u2019s longest linearizable prefix, in linearization order' + (x.model ? ' (the ' + x.model + ' model cannot be replayed here: no states)' : '') + '. Hover a row for the op.';
		var wrap = el('div', null, 'scroll');
		wrap.appendChild(tbl);
		host.appendChild(wrap);
		host.appendChild(note);
		/* The drawing: those ops and the concurrent window, one lane per
		 * process, x the order of events (not to scale). */
		var drawOps = [];
		rows.forEach(function (r) { if (r.k >= 0) drawOps.push(r.k); });
		conc.forEach(function (j) { if (drawOps.indexOf(j) < 0) drawOps.push(j); });
		if (bad >= 0 && drawOps.indexOf(bad) < 0) drawOps.push(bad);
		drawEventOrder(host, drawOps, bad, opsIn, prefix);
		mark('lin-rows', nrows);
		mark('lin-states', nstates);
		/* the ops that set the state and completed before the bad op began */
		mark('lin-cause', rows.filter(function (r) {
			return r.k >= 0 && sets(r) && bad >= 0 && ty[r.k] !== TY_PENDING && t1[r.k] < t0[bad];
		}).map(function (r) { return idx[r.k]; }).join(','));
		drawOps.forEach(function (j) { highlight[j] = j === bad ? '#7a0010' : '#e09f3e'; });
		timelineButton(host, drawOps);
		return drawOps.length;
	}
	var hoverTarget = null;
	function hoverOp(j, on) { if (hoverTarget) hoverTarget(j, on); }
	function drawEventOrder(host, ops, bad, rowOf, prefix) {
		if (!ops.length) return;
		var times = [];
		ops.forEach(function (j) { times.push(t0[j]); if (ty[j] !== TY_PENDING) times.push(t1[j]); });
		times.sort(function (a, b) { return a - b; });
		times = times.filter(function (t, j) { return j === 0 || t !== times[j - 1]; });
		var slots = times.length + 1, ps = [];
		ops.forEach(function (j) { if (ps.indexOf(proc[j]) < 0) ps.push(proc[j]); });
		ps.sort(function (a, b) { return a - b; });
		var laneH = 30, cvHost = el('div', null, 'plot');
		host.appendChild(cvHost);
		var cv = canvas(cvHost, ps.length * laneH + 40), ctx = cv.ctx, top = 4, axisY = top + ps.length * laneH + 2;
		function slotX(t) { return L + (lowerBound(times, t) + 0.5) / slots * cv.pw; }
		var boxes = [], hot = -1;
		function paint() {
			ctx.clearRect(0, 0, cv.w, cv.h);
			ctx.textBaseline = 'middle';
			ps.forEach(function (p, n) {
				ctx.fillStyle = '#5c667a';
				ctx.textAlign = 'right';
				ctx.fillText(procName(p), L - 6, top + n * laneH + laneH / 2);
				ctx.strokeStyle = '#eef0f4';
				ctx.beginPath(); ctx.moveTo(L, top + (n + 1) * laneH + 0.5); ctx.lineTo(L + cv.pw, top + (n + 1) * laneH + 0.5); ctx.stroke();
			});
			if (bad >= 0) { /* the bad op's interval, across every lane */
				var bx0 = slotX(t0[bad]), bx1 = ty[bad] !== TY_PENDING ? slotX(t1[bad]) : L + cv.pw;
				ctx.fillStyle = 'rgba(230,57,70,0.07)';
				ctx.fillRect(bx0, top, bx1 - bx0, axisY - top);
			}
			ctx.strokeStyle = '#c5ccd8';
			ctx.beginPath(); ctx.moveTo(L, axisY + 0.5); ctx.lineTo(L + cv.pw, axisY + 0.5); ctx.stroke();
			ctx.fillStyle = '#5c667a';
			ctx.textAlign = 'left';
			ctx.textBaseline = 'top';
			ctx.fillText('events in order (not to scale): ' + fmtT(times[0]) + ' \u2192 ' + fmtT(times[times.length - 1]), L, axisY + 6);
			ctx.textBaseline = 'middle';
			boxes = [];
			ops.forEach(function (j) {
				var y = top + ps.indexOf(proc[j]) * laneH + 4, h = laneH - 8;
				var x0 = slotX(t0[j]), done = ty[j] !== TY_PENDING;
				var x1 = done ? Math.max(x0 + 3, slotX(t1[j])) : x0;
				var open = !done || ty[j] === TY_INFO; /* info: may take effect at any time after its invoke */
				var r = rowOf[j], col = j === bad ? '#e63946' : prefix[idx[j]] ? (r && !isRead(S.f[fOf[j]]) ? '#1f7a6f' : '#2a9d8f') : '#8d99ae';
				ctx.fillStyle = col;
				if (open) { ctx.globalAlpha = 0.3; ctx.fillRect(x1, y, L + cv.pw - x1, h); }
				ctx.globalAlpha = 0.95;
				ctx.fillRect(x0, y, x1 - x0, h);
				ctx.globalAlpha = 1;
				if (j === bad || j === hot) { ctx.lineWidth = 3; ctx.strokeStyle = j === bad ? '#7a0010' : '#1d2433'; ctx.strokeRect(x0, y, x1 - x0, h); ctx.lineWidth = 1; }
				ctx.save();
				var xe = open ? L + cv.pw : x1;
				ctx.beginPath(); ctx.rect(x0, y, xe - x0, h); ctx.clip();
				ctx.fillStyle = x1 - x0 > 60 ? '#fff' : '#1d2433';
				ctx.textAlign = 'left';
				ctx.font = 'bold 12px system-ui, "DejaVu Sans", sans-serif';
				var label = S.f[fOf[j]] + ' ' + opValue(j) + (ty[j] !== TY_OK ? ' (' + TYWORD[ty[j]] + ')' : '') +
					(r && r.state !== null && r.state !== undefined && !isRead(S.f[fOf[j]]) ? '  \u2192 ' + r.state : '');
				var wide = ctx.measureText(label).width + 10 <= xe - x0;
				if (wide) ctx.fillText(label, x0 + 5, y + h / 2);
				ctx.restore();
				if (!wide) { /* too narrow: the label goes after the bar */
					ctx.save();
					ctx.font = 'bold 12px system-ui, "DejaVu Sans", sans-serif';
					ctx.fillStyle = j === bad ? '#7a0010' : '#1d2433';
					ctx.textAlign = 'left';
					ctx.fillText(fitText(ctx, label, L + cv.pw - xe - 6), xe + 4, y + h / 2);
					ctx.restore();
				}
				boxes.push([x0, y, xe, y + h, j]);
			});
		}
		paint();
		hoverTarget = function (j, on) { hot = on ? j : -1; paint(); };
		cv.c.addEventListener('mousemove', function (ev) {
			var b = cv.c.getBoundingClientRect(), x = ev.clientX - b.left, y = ev.clientY - b.top;
			var hit = boxes.filter(function (bx) { return x >= bx[0] && x <= bx[2] && y >= bx[1] && y <= bx[3]; });
			if (!hit.length) { hideTip(); return; }
			var j = hit[hit.length - 1][4], r = rowOf[j];
			showTip(ev, opText(j, j === bad ? 'cannot be linearized' : r && r.state !== null && r.state !== undefined ? 'model state after it: ' + r.state : prefix[idx[j]] ? 'linearized' : 'concurrent, not linearized'));
		});
		cv.c.addEventListener('mouseleave', hideTip);
		var leg = el('div', null, 'legend');
		legend(leg, [['cannot be linearized', '#e63946'], ['sets the state (linearized)', '#1f7a6f'], ['linearized', '#2a9d8f'],
			['concurrent, not linearized', '#8d99ae'], ['info / no completion: may take effect later (faded)', '#8d99ae', 0.3]]);
		host.appendChild(leg);
	}

	/* ---- transaction cycles (Elle): the transactions as boxes, the
	 * dependency edges as labelled arrows, Elle's explanation ---- */
	var EDGE = { wr: ['#2a9d8f', 'write \u2192 read: the second read what the first wrote'],
		ww: ['#3a86ff', 'write \u2192 write: the second overwrote the first'],
		rw: ['#e63946', 'read \u2192 write (anti-dependency): the first did not see the second\u2019s write'],
		process: ['#8d99ae', 'process order'], realtime: ['#8338ec', 'real time: the first completed before the second began'] };
	function mopText(m) {
		if (!Array.isArray(m)) return vtext(m);
		return m.map(function (p, j) { return j === 0 && typeof p === 'string' ? p : vtext(p); }).join(' ');
	}
	function txnLines(t, n) {
		var head = 'T' + (n + 1) + '  #' + t.index + (typeof t.process === 'number' ? '  ' + procName(t.process) : '');
		var j = findOpAny(t.index);
		if (j >= 0 && str('nodes', nodeOf[j]) !== null) head += '  ' + str('nodes', nodeOf[j]);
		var v = t.value;
		var lines = Array.isArray(v) ? v.map(mopText) : [vtext(v)];
		if (t.type && t.type !== 'ok') lines.push('(' + t.type + ')');
		return [head].concat(lines.map(function (s) { return s.length > 60 ? s.slice(0, 59) + '\u2026' : s; }));
	}
	function drawTxns(host, txns, edges) {
		var n = txns.length, CW = 7.3, LH = 16;
		var boxes = txns.map(function (t, j) {
			var lines = txnLines(t, j), w = 0;
			lines.forEach(function (s) { w = Math.max(w, s.length); });
			return { lines: lines, w: Math.max(90, w * CW + 18), h: lines.length * LH + 10, t: t, j: j };
		});
		var mw = 0, mh = 0;
		boxes.forEach(function (b) { mw = Math.max(mw, b.w); mh = Math.max(mh, b.h); });
		var rx, ry;
		if (!edges) { rx = 0; ry = 0; }
		else if (n === 2) { rx = mw / 2 + 110; ry = 0; }
		else { rx = Math.max(mw * 0.75 + 60, n * (mw + 40) / (2 * Math.PI)); ry = Math.max(mh * 0.75 + 50, n * (mh + 40) / (2 * Math.PI)); }
		var W, H;
		if (!edges) { /* a row of boxes */
			var x = 10;
			boxes.forEach(function (b) { b.cx = x + b.w / 2; b.cy = mh / 2 + 10; x += b.w + 20; });
			W = x; H = mh + 20;
		} else { /* a ring, then the drawing cropped to the boxes plus room for the arcs */
			boxes.forEach(function (b, j) {
				var a = (n === 2 ? Math.PI : -Math.PI / 2) + 2 * Math.PI * j / n;
				b.cx = rx * Math.cos(a); b.cy = ry * Math.sin(a);
			});
			var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
			boxes.forEach(function (b) {
				x0 = Math.min(x0, b.cx - b.w / 2); x1 = Math.max(x1, b.cx + b.w / 2);
				y0 = Math.min(y0, b.cy - b.h / 2); y1 = Math.max(y1, b.cy + b.h / 2);
			});
			var m = 70; /* arcs bulge out of the ring by up to ~60 px */
			boxes.forEach(function (b) { b.cx += m - x0; b.cy += m - y0; });
			W = x1 - x0 + 2 * m; H = y1 - y0 + 2 * m;
		}
		var s = svg('svg', { viewBox: '0 0 ' + Math.ceil(W) + ' ' + Math.ceil(H), width: Math.ceil(W), 'class': 'txns' });
		s.style.maxWidth = '100%';
		s.style.height = 'auto';
		var gE = svg('g', { 'class': 'edges' }), gB = svg('g', {}), gL = svg('g', {});
		s.appendChild(gE); s.appendChild(gB); s.appendChild(gL);
		function exit(b, dx, dy) { /* where a ray from b's centre leaves b */
			var sx = dx ? (b.w / 2 + 4) / Math.abs(dx) : Infinity, sy = dy ? (b.h / 2 + 4) / Math.abs(dy) : Infinity, m = Math.min(sx, sy);
			return [b.cx + dx * m, b.cy + dy * m];
		}
		var pairCount = {}, nEdges = 0;
		(edges || []).forEach(function (e) {
			var a = boxes[e.from], b = boxes[e.to];
			if (!a || !b) return;
			var pk = e.from + '>' + e.to, m = pairCount[pk] = (pairCount[pk] || 0) + 1;
			var col = (EDGE[e.type] || ['#5c667a'])[0];
			var dx = b.cx - a.cx, dy = b.cy - a.cy, d = Math.sqrt(dx * dx + dy * dy) || 1;
			var off = (e.from === e.to ? 60 : Math.min(90, 0.2 * d)) * (1 + 0.6 * (m - 1));
			var mx = (a.cx + b.cx) / 2 - dy / d * off, my = (a.cy + b.cy) / 2 + dx / d * off;
			var p0 = exit(a, mx - a.cx, my - a.cy), p1 = exit(b, mx - b.cx, my - b.cy);
			var path = svg('path', { d: 'M' + p0[0] + ',' + p0[1] + ' Q' + mx + ',' + my + ' ' + p1[0] + ',' + p1[1],
				fill: 'none', stroke: col, 'stroke-width': 2, 'class': 'edge edge-' + String(e.type).replace(/[^a-z-]/g, '') });
			if (e.type === 'rw') path.setAttribute('stroke-dasharray', '6 4');
			gE.appendChild(path);
			var tx = p1[0] - mx, tyy = p1[1] - my, tl = Math.sqrt(tx * tx + tyy * tyy) || 1;
			tx /= tl; tyy /= tl;
			var ah = 10, aw = 5;
			gE.appendChild(svg('polygon', { points: [p1[0], p1[1], p1[0] - tx * ah - tyy * aw, p1[1] - tyy * ah + tx * aw,
				p1[0] - tx * ah + tyy * aw, p1[1] - tyy * ah - tx * aw].join(' '), fill: col }));
			var lx = 0.25 * p0[0] + 0.5 * mx + 0.25 * p1[0], ly = 0.25 * p0[1] + 0.5 * my + 0.25 * p1[1];
			var label = String(e.type) + (e.key !== undefined && e.key !== null ? ' ' + vtext(e.key) : '') +
				(e.value !== undefined && e.value !== null ? ' = ' + vtext(e.value) : '');
			var lw = label.length * 6.6 + 10;
			var g = svg('g', { 'class': 'edge-label' });
			g.appendChild(svg('rect', { x: lx - lw / 2, y: ly - 9, width: lw, height: 18, rx: 4, fill: '#fff', stroke: col }));
			g.appendChild(svg('text', { x: lx, y: ly + 4, 'text-anchor': 'middle', fill: col }, label));
			g.appendChild(svg('title', {}, 'T' + (e.from + 1) + ' \u2192 T' + (e.to + 1) + ': ' + label + '\n' + ((EDGE[e.type] || [0, ''])[1])));
			gL.appendChild(g);
			nEdges++;
		});
		boxes.forEach(function (b) {
			var g = svg('g', { 'class': 'txn', transform: 'translate(' + (b.cx - b.w / 2) + ',' + (b.cy - b.h / 2) + ')' });
			var j = findOpAny(b.t.index);
			var bad = b.t.type && b.t.type !== 'ok';
			g.appendChild(svg('rect', { width: b.w, height: b.h, rx: 6, fill: '#fff', stroke: bad ? '#e09f3e' : '#1d2433', 'stroke-width': 1.5 }));
			g.appendChild(svg('rect', { width: b.w, height: LH + 4, rx: 6, fill: '#1d2433' }));
			b.lines.forEach(function (line, m) {
				g.appendChild(svg('text', { x: 9, y: 16 + m * LH + (m ? 4 : 0), fill: m ? '#1d2433' : '#fff', 'font-weight': m ? 'normal' : 'bold' }, line));
			});
			g.addEventListener('mousemove', function (ev) { showTip(ev, j >= 0 ? opText(j, 'T' + (b.j + 1)) : 'T' + (b.j + 1) + ' op #' + b.t.index + ' (not in this history)'); });
			g.addEventListener('mouseleave', hideTip);
			g.addEventListener('click', function () { if (j >= 0) selectOp(j, true); });
			gB.appendChild(g);
		});
		host.appendChild(s);
		if (edges) {
			var used = {};
			edges.forEach(function (e) { used[e.type] = 1; });
			var leg = el('div', null, 'legend');
			legend(leg, Object.keys(EDGE).filter(function (t) { return used[t]; }).map(function (t) { return [t + ': ' + EDGE[t][1], EDGE[t][0]]; }));
			host.appendChild(leg);
		}
		return nEdges;
	}
	function txnTable(host, txns) {
		var tbl = el('table', null, 'lin'), tr = el('tr');
		['', 'op', 'process', 'node', 'invoked \u2192 completed', 'wall clock', 'value'].forEach(function (h) { tr.appendChild(el('th', h)); });
		var th = el('thead'); th.appendChild(tr); tbl.appendChild(th);
		var tb = el('tbody');
		txns.forEach(function (t, n) {
			var j = findOpAny(t.index), row = el('tr');
			row.appendChild(el('td', 'T' + (n + 1)));
			var td = el('td'); td.appendChild(opLink(t.index)); row.appendChild(td);
			row.appendChild(el('td', typeof t.process === 'number' ? procName(t.process) : j >= 0 ? procName(proc[j]) : '\u2013'));
			var nd = el('td'), nn = j >= 0 ? str('nodes', nodeOf[j]) : null;
			if (nn !== null) nd.appendChild(nodeLink(nn)); else nd.textContent = '\u2013';
			row.appendChild(nd);
			row.appendChild(el('td', j >= 0 ? fmtS(t0[j]) + ' \u2192 ' + (ty[j] === TY_PENDING ? 'never' : fmtS(t1[j])) : '\u2013'));
			row.appendChild(el('td', j >= 0 ? fmtWall(t0[j]) || '\u2013' : '\u2013'));
			row.appendChild(el('td', Array.isArray(t.value) ? t.value.map(mopText).join('; ') : vtext(t.value), 'state'));
			tb.appendChild(row);
		});
		tbl.appendChild(tb);
		var wrap = el('div', null, 'scroll');
		wrap.appendChild(tbl);
		host.appendChild(wrap);
	}
	function renderCycle(host, x, fx) {
		var fl = x.f, txns = Array.isArray(fl.txns) ? fl.txns : [], edges = Array.isArray(fl.edges) ? fl.edges : [];
		var ne = drawTxns(host, txns, edges);
		if (fl.explanation) host.appendChild(el('pre', fl.explanation, 'explain'));
		txnTable(host, txns);
		mark('cycle-txns', txns.length);
		mark('cycle-edges', ne);
		fx.ops.forEach(function (j) { highlight[j] = '#7a0010'; });
		timelineButton(host, fx.ops);
		return txns.length;
	}
	/* Anomalies that are not cycles (G1a, internal, lost-update, ...): the
	 * ops they name as boxes, the explanation, and the failure as JSON. */
	function renderOps(host, x, fx) {
		var fl = x.f, refs = opRefs(fl);
		if (refs.length) drawTxns(host, refs, null);
		if (fl.explanation) host.appendChild(el('pre', fl.explanation, 'explain'));
		if (refs.length) txnTable(host, refs);
		fx.ops.forEach(function (j) { highlight[j] = '#7a0010'; });
		timelineButton(host, fx.ops);
		host.appendChild(jsonBlock(fl, true));
		return refs.length;
	}
	/* Any other kind: the failure as readable JSON (escaped: textContent),
	 * with links to the ops it names. */
	function renderJSON(host, x, fx) {
		var fl = x.f;
		if (fx.ops.length) {
			var p = el('p', 'ops it names: ', 'note');
			fx.ops.slice(0, 50).forEach(function (j) { p.appendChild(opLink(idx[j])); p.appendChild(document.createTextNode(' ')); });
			host.appendChild(p);
			fx.ops.forEach(function (j) { highlight[j] = '#7a0010'; });
		}
		host.appendChild(jsonBlock(fl, true));
		mark('json-fallback', 1);
		timelineButton(host, fx.ops);
		return fx.ops.length;
	}

	/* ---- shared by the set-full, bank, counter and lock renderers: an SVG
	 * drawing over a span of history time (µs), the faults shaded in their
	 * kinds' colours with their words on hover, a time axis below. Every
	 * label is an SVG text node (text, never markup). ---- */
	var STRIP_W = 1000;
	function strip(a, b, h, o) {
		o = o || {};
		if (!(b > a)) { var m = (a + b) / 2; a = m - 500; b = m + 500; }
		var LW = o.left === undefined ? 150 : o.left, top = 6, W = STRIP_W, H = top + h + 24;
		var s = svg('svg', { viewBox: '0 0 ' + W + ' ' + H, width: W, 'class': 'strip' + (o.cls ? ' ' + o.cls : '') });
		s.style.maxWidth = '100%';
		s.style.height = 'auto';
		var pw = W - LW - 12;
		function x(t) { return LW + (Math.min(Math.max(t, a), b) - a) / (b - a) * pw; }
		var nf = 0, gF = svg('g', { 'class': 'faults' });
		D.faults.forEach(function (f) {
			if (f.t1 < a || f.t0 > b) return;
			var r = svg('rect', { x: x(f.t0), y: top, width: Math.max(1, x(f.t1) - x(f.t0)), height: h,
				fill: kindColor[f.kind], opacity: 0.18, 'class': 'fault' });
			r.appendChild(svg('title', {}, faultText(f)));
			gF.appendChild(r);
			nf++;
		});
		s.appendChild(gF);
		var step = niceStep(b - a, pw / 110), dec = Math.max(0, Math.min(6, -Math.floor(Math.log10(step / 1e6) + 1e-9)));
		var gA = svg('g', { 'class': 'axis' });
		gA.appendChild(svg('line', { x1: LW, x2: LW + pw, y1: top + h + 0.5, y2: top + h + 0.5, stroke: '#c5ccd8' }));
		for (var t = Math.ceil(a / step) * step; t <= b; t += step) {
			gA.appendChild(svg('line', { x1: x(t), x2: x(t), y1: top, y2: top + h, stroke: '#eef0f4' }));
			gA.appendChild(svg('text', { x: x(t), y: top + h + 16, 'text-anchor': 'middle', fill: '#5c667a' }, (t / 1e6).toFixed(dec) + ' s'));
		}
		s.insertBefore(gA, gF);
		var g = svg('g', {});
		s.appendChild(g);
		return { svg: s, g: g, x: x, top: top, h: h, left: LW, right: LW + pw, faults: nf, a: a, b: b };
	}
	/* A labelled lane of a strip. */
	function stripLane(st, y, label, cls) {
		st.g.appendChild(svg('line', { x1: st.left, x2: st.right, y1: y, y2: y, stroke: '#eef0f4' }));
		st.g.appendChild(svg('text', { x: st.left - 8, y: y + 4, 'text-anchor': 'end', fill: '#1d2433', 'class': cls || 'lane' }, label));
	}
	/* An op of a failure (an opref: index, invoke_time and complete_time in
	 * ns) as a bar on a strip: from invocation to completion, hover for the
	 * op, click to select it in the timeline. */
	function oprefSpan(o) {
		var j = o && typeof o.index === 'number' ? findOpAny(o.index) : -1;
		var a = j >= 0 ? t0[j] : o && o.invoke_time >= 0 ? o.invoke_time / 1000 : null;
		var b = j >= 0 ? (ty[j] === TY_PENDING ? t0[j] : t1[j]) : o && o.complete_time >= 0 ? o.complete_time / 1000 : a;
		return { j: j, a: a, b: b === null ? a : b };
	}
	function stripOp(st, o, y, color, cls, note, hgt) {
		var sp = oprefSpan(o);
		if (sp.a === null) return null;
		hgt = hgt || 12;
		var x0 = st.x(sp.a), x1 = Math.max(st.x(sp.b), x0 + 3);
		var r = svg('rect', { x: x0, y: y - hgt / 2, width: x1 - x0, height: hgt, rx: 2, fill: color, 'class': cls || 'op' });
		var words = (note ? note + '\n' : '') + (sp.j >= 0 ? opText(sp.j) : 'op #' + o.index + ' ' + vtext(o.f) + ' ' + vtext(o.value));
		r.appendChild(svg('title', {}, words));
		if (sp.j >= 0) {
			r.style.cursor = 'pointer';
			r.addEventListener('click', function () { selectOp(sp.j, true); });
			highlight[sp.j] = color;
		}
		st.g.appendChild(r);
		return r;
	}
	function spanOf(list) { /* [a, b] over oprefs and bare times (µs) */
		var a = Infinity, b = -Infinity;
		list.forEach(function (o) {
			if (o === null || o === undefined) return;
			if (typeof o === 'number') { a = Math.min(a, o); b = Math.max(b, o); return; }
			var sp = oprefSpan(o);
			if (sp.a !== null) { a = Math.min(a, sp.a); b = Math.max(b, sp.b); }
		});
		return [a, b];
	}
	function padSpan(sp) {
		if (sp[0] === Infinity) return [0, END];
		var pad = Math.max((sp[1] - sp[0]) * 0.08, 20000);
		return [Math.max(0, sp[0] - pad), Math.min(Math.max(END, sp[1]), sp[1] + pad)];
	}
	/* Up to max items as text, then "and N more" (total from a count that
	 * may exceed the list, which checkers cap). */
	function listMore(host, items, total, max, each) {
		var shown = items.slice(0, max);
		shown.forEach(function (it, j) {
			if (j) host.appendChild(document.createTextNode(', '));
			host.appendChild(each(it));
		});
		var more = Math.max(total, items.length) - shown.length;
		if (more > 0) host.appendChild(el('span', (shown.length ? ' ' : '') + 'and ' + more + ' more', 'more'));
		return shown.length;
	}
	/* The failure of the same checker and kind naming an element, for links. */
	function failureOf(checker, test) {
		for (var fi = 0; fi < FAILS.length; fi++) if (FAILS[fi].checker === checker && test(FAILS[fi].f)) return fi;
		return -1;
	}
	function failLink(fi, text) {
		if (fi < 0) return el('span', text);
		var a = el('a', text);
		a.href = '#failure=' + (fi + 1);
		a.addEventListener('click', function (ev) { ev.preventDefault(); selectFailure(fi, true); });
		return a;
	}

	/* ---- set-full: the element's add, the reads that saw it and those that
	 * missed it, on a strip with the faults; the checker's counts; the
	 * lost / stale / recovered / never-read / flapping elements on a strip of
	 * the whole test (each at its add), lists cut with "and N more" ---- */
	var SF_OUTCOMES = [['lost', 'lost', '#d62828'], ['stale', 'stale', '#e09f3e'], ['recovered', 'recovered', '#3a86ff'],
		['never_read', 'never read', '#8d99ae'], ['flapping', 'flapping', '#8338ec']];
	var addsByValue = null;
	function addOf(elem) { /* the add op of a set element in this history, or -1 */
		if (!addsByValue) {
			addsByValue = new Map();
			var fa = S.f.indexOf('add');
			if (fa >= 0) for (var j = 0; j < fOf.length; j++)
				if (fOf[j] === fa) { var v = opValue(j); if (!addsByValue.has(v) || ty[j] === TY_OK) addsByValue.set(v, j); }
		}
		var j2 = addsByValue.get(vtext(elem));
		return j2 === undefined ? -1 : j2;
	}
	function setFullSummary(host, x, fl) {
		var r = x.result || {}, p = el('p', null, 'note setfull-counts');
		var parts = [];
		if (typeof r.acknowledged_count === 'number') parts.push(r.acknowledged_count + ' acknowledged of ' + plural(r.attempt_count, 'add'));
		if (typeof r.read_count === 'number') parts.push(plural(r.read_count, 'read'));
		['stable', 'lost', 'stale', 'recovered', 'never_read', 'flapping', 'failed_add_present', 'unexpected', 'duplicated'].forEach(function (k) {
			var n = r[k + '_count'];
			if (typeof n === 'number' && (n || k === 'stable' || k === 'lost')) parts.push(n + ' ' + k.replace(/_/g, ' '));
		});
		p.textContent = parts.join(', ') + (r.linearizable ? ' (stale and flapping elements count: the set is meant to be linearizable)' : '');
		host.appendChild(p);
		/* The outcome lists on a strip of the whole test, then as text. */
		var rows = SF_OUTCOMES.filter(function (o) { return Array.isArray(r[o[0]]) && r[o[0]].length; });
		if (rows.length) {
			var st = strip(0, END, rows.length * 24, { cls: 'setfull-overview' }), drawn = 0;
			rows.forEach(function (o, i) {
				var y = st.top + 12 + i * 24, n = r[o[0] + '_count'];
				stripLane(st, y, o[1] + ' (' + (typeof n === 'number' ? n : r[o[0]].length) + ')');
				r[o[0]].forEach(function (e) {
					var j = addOf(e);
					if (j < 0) return;
					var tt = ty[j] === TY_PENDING ? t0[j] : t1[j], mine = vtext(e) === vtext(fl.element);
					var m = svg('rect', { x: st.x(tt) - (mine ? 2 : 1), y: y - (mine ? 9 : 6), width: mine ? 4 : 2, height: mine ? 18 : 12,
						fill: mine ? '#1d2433' : o[2], 'class': 'elem ' + o[0] });
					m.appendChild(svg('title', {}, o[1] + ' element ' + vtext(e) + '\n' + opText(j)));
					m.style.cursor = 'pointer';
					m.addEventListener('click', function () { selectOp(j, true); });
					st.g.appendChild(m);
					drawn++;
				});
			});
			host.appendChild(el('p', 'Each element at its add\u2019s completion; faults shaded; this failure\u2019s element in black.', 'note'));
			host.appendChild(st.svg);
			mark('setfull-overview-marks', drawn);
			var ul = el('ul', null, 'elems');
			rows.forEach(function (o) {
				var li = el('li'), n = r[o[0] + '_count'];
				li.appendChild(el('b', o[1] + ' (' + (typeof n === 'number' ? n : r[o[0]].length) + '): '));
				var kind = o[0] === 'never_read' ? null : o[0];
				var shown = listMore(li, r[o[0]], typeof n === 'number' ? n : 0, 20, function (e) {
					var fi = kind ? failureOf(x.checker, function (f) { return f.kind === kind && vtext(f.element) === vtext(e); }) : -1;
					return failLink(fi, vtext(e));
				});
				li.setAttribute('data-shown', String(shown));
				ul.appendChild(li);
			});
			host.appendChild(ul);
		}
	}
	function renderSetFull(host, x, fx) {
		var fl = x.f;
		if (!fl || !('element' in fl) || !fl.add && !fl.read && !fl.last_absent) return renderJSON(host, x, fx);
		var saw = [], missed = [];
		function addRead(list, o, why) {
			if (!o || typeof o.index !== 'number') return;
			for (var i = 0; i < list.length; i++) if (list[i][0].index === o.index) { list[i][1].push(why); return; }
			list.push([o, [why]]);
		}
		addRead(saw, fl.first_present, 'first read that saw it');
		addRead(saw, fl.last_present, 'last read that saw it');
		addRead(saw, fl.present_again, 'saw it again');
		if (fl.kind !== 'stale' && fl.kind !== 'lost') addRead(saw, fl.read, 'the read that shows it');
		(fl.missed_by || []).forEach(function (o, i) { addRead(missed, o, 'missed it (' + (i + 1) + ' of ' + fl.missed_count + ' after it was known)'); });
		addRead(missed, fl.last_absent, 'last read that missed it');
		addRead(missed, fl.absent, 'missed it after a read saw it');
		var known = fl.known && typeof fl.known.time === 'number' && fl.known.time >= 0 ? fl.known.time / 1000 : null;
		var all = [fl.add, known].concat(saw.map(function (r) { return r[0]; }), missed.map(function (r) { return r[0]; }));
		var span = padSpan(spanOf(all));
		var lanes = [['add', fl.add ? [[fl.add, ['its add']]] : [], fl.add && fl.add.type !== 'ok' ? '#f4a261' : '#2a9d8f'],
			['reads that saw it', saw, '#2a9d8f'], ['reads that missed it', missed, '#d62828']];
		var st = strip(span[0], span[1], lanes.length * 28 + 8, { cls: 'setfull-element' });
		lanes.forEach(function (ln, i) {
			var y = st.top + 16 + i * 28;
			stripLane(st, y, ln[0]);
			ln[1].forEach(function (r) { stripOp(st, r[0], y, ln[2], 'op', ln[0] === 'add' ? 'element ' + vtext(fl.element) + ': its add' : r[1].join('; ')); });
		});
		if (known !== null) {
			var kx = st.x(known);
			st.g.appendChild(svg('line', { x1: kx, x2: kx, y1: st.top, y2: st.top + st.h, stroke: '#1d2433', 'stroke-dasharray': '4 3', 'class': 'known' }));
			st.g.appendChild(svg('text', { x: kx + 4, y: st.top + st.h - 4, fill: '#1d2433', 'class': 'known' },
				'known (' + (fl.known.by === 'add' ? 'add completed' : 'first read') + ')'));
		}
		host.appendChild(st.svg);
		var tbl = el('table', null, 'lin'), tr = el('tr');
		['', 'op', 'process', 'node', 'invoked \u2192 completed', 'what it shows'].forEach(function (h) { tr.appendChild(el('th', h)); });
		var th = el('thead'); th.appendChild(tr); tbl.appendChild(th);
		var tb = el('tbody');
		function row(label, o, why, cls) {
			var sp = oprefSpan(o), r = el('tr', null, cls);
			r.appendChild(el('td', label));
			var td = el('td'); td.appendChild(opLink(o.index, vtext(o.f) + ' #' + o.index)); r.appendChild(td);
			r.appendChild(el('td', typeof o.process === 'number' ? procName(o.process) : '\u2013'));
			var nd = el('td');
			if (typeof o.node === 'string') nd.appendChild(nodeLink(o.node)); else nd.textContent = '\u2013';
			r.appendChild(nd);
			r.appendChild(el('td', sp.a === null ? '\u2013' : fmtS(sp.a) + ' \u2192 ' + (o.complete_time >= 0 ? fmtS(sp.b) : 'never')));
			r.appendChild(el('td', why, 'state'));
			tb.appendChild(r);
		}
		if (fl.add) row('add', fl.add, fl.add.type === 'ok' ? 'acknowledged' : fl.add.type === 'fail' ? 'failed: certainly not done' : 'outcome unknown (' + fl.add.type + ')', 'set');
		saw.forEach(function (r) { row('saw', r[0], r[1].join('; '), ''); });
		missed.forEach(function (r) { row('missed', r[0], r[1].join('; '), 'bad'); });
		tbl.appendChild(tb);
		var wrap = el('div', null, 'scroll');
		wrap.appendChild(tbl);
		host.appendChild(wrap);
		if (fl.missed_count > missed.length)
			host.appendChild(el('p', fl.missed_count + ' reads that began after it was known missed it; the first ' + (fl.missed_by || []).length + ' and the last are drawn.', 'note'));
		mark('setfull-element', vtext(fl.element));
		mark('setfull-saw', saw.length);
		mark('setfull-missed', missed.length);
		mark('strip-faults', st.faults);
		setFullSummary(host, x, fl);
		timelineButton(host, fx.ops);
		return saw.length + missed.length + (fl.add ? 1 : 0);
	}

	/* ---- bank: the total of every ok read over time (results.json's
	 * sampled series), the expected total as a line, the faults shaded,
	 * the offending reads in red and listed with their balances ---- */
	function seriesOf(r, name) { /* {columns, points} -> array of objects */
		var s = r && r[name];
		if (!s || !Array.isArray(s.points) || !Array.isArray(s.columns)) return [];
		return s.points.map(function (p) { var o = {}; s.columns.forEach(function (c, i) { o[c] = p[i]; }); return o; });
	}
	function valuePlot(host, pts, o) {
		/* pts: [{t (µs), v, lo, hi, bad, sel, index}]; o: {expected, ytitle, cls} */
		var H = o.height || 180, st = strip(o.span ? o.span[0] : 0, o.span ? o.span[1] : END, H, { left: 70, cls: o.cls });
		var ys = [];
		pts.forEach(function (p) { ys.push(p.v); if (p.lo !== undefined) { ys.push(p.lo); ys.push(p.hi); } });
		if (o.expected !== undefined) ys.push(o.expected);
		var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
		if (!(y1 > y0)) { y0 -= 1; y1 += 1; }
		var pad = (y1 - y0) * 0.08;
		y0 -= pad; y1 += pad;
		function y(v) { return st.top + H - (v - y0) / (y1 - y0) * H; }
		var ystep = niceStep(y1 - y0, 5);
		for (var v = Math.ceil(y0 / ystep) * ystep; v <= y1; v += ystep)
			st.g.appendChild(svg('text', { x: st.left - 6, y: y(v) + 4, 'text-anchor': 'end', fill: '#5c667a' }, String(+v.toFixed(6))));
		st.g.appendChild(svg('text', { x: 12, y: st.top + H / 2, 'text-anchor': 'middle', fill: '#5c667a', transform: 'rotate(-90 12 ' + (st.top + H / 2) + ')' }, o.ytitle));
		if (o.expected !== undefined) {
			st.g.appendChild(svg('line', { x1: st.left, x2: st.right, y1: y(o.expected), y2: y(o.expected), stroke: '#2b9348', 'stroke-dasharray': '6 4', 'class': 'expected' }));
			st.g.appendChild(svg('text', { x: st.right - 4, y: y(o.expected) - 5, 'text-anchor': 'end', fill: '#2b9348', 'class': 'expected' }, 'expected ' + o.expected));
		}
		var line = [], nbad = 0;
		pts.forEach(function (p) {
			var px = st.x(p.t);
			if (p.lo !== undefined) st.g.appendChild(svg('line', { x1: px, x2: px, y1: y(p.lo), y2: y(p.hi) + (y(p.lo) - y(p.hi) < 2 ? -2 : 0),
				stroke: p.bad ? '#f2a3a3' : '#b8c4d6', 'stroke-width': o.barWidth || 3, 'class': 'bounds' }));
			line.push(px.toFixed(1) + ',' + y(p.v).toFixed(1));
		});
		if (o.line !== false && line.length) st.g.appendChild(svg('polyline', { points: line.join(' '), fill: 'none', stroke: '#3a86ff', 'stroke-width': 1.2 }));
		pts.forEach(function (p) {
			if (!p.bad && !p.sel && pts.length > 400) return;
			var c = svg('circle', { cx: st.x(p.t), cy: y(p.v), r: p.sel ? 6 : p.bad ? 4 : 2.2,
				fill: p.bad ? '#d62828' : '#3a86ff', stroke: p.sel ? '#1d2433' : 'none', 'stroke-width': 2, 'class': p.bad ? 'bad' : 'pt' });
			var j = typeof p.index === 'number' ? findOpAny(p.index) : -1;
			c.appendChild(svg('title', {}, (p.tip || '') + (j >= 0 ? (p.tip ? '\n' : '') + opText(j) : '')));
			if (j >= 0) { c.style.cursor = 'pointer'; c.addEventListener('click', function () { selectOp(j, true); }); }
			st.g.appendChild(c);
			if (p.bad) nbad++;
		});
		host.appendChild(st.svg);
		return { st: st, bad: nbad };
	}
	function renderBank(host, x, fx) {
		var fl = x.f, r = x.result || {}, exp = typeof r.expected_total === 'number' ? r.expected_total : fl.expected_total;
		var mine = fl.op ? fl.op.index : -1, badIdx = {};
		FAILS.forEach(function (y) { if (y.checker === x.checker && y.f && y.f.op) badIdx[y.f.op.index] = 1; });
		var pts = seriesOf(r, 'totals').map(function (p) {
			var j = findOpAny(p.index);
			return { t: j >= 0 ? t1[j] : p.time / 1000, v: p.total, index: p.index, bad: p.total !== exp || !!badIdx[p.index], sel: p.index === mine,
				tip: 'total ' + p.total + (p.total !== exp ? ' (expected ' + exp + ')' : '') };
		});
		if (!pts.length) return renderJSON(host, x, fx);
		host.appendChild(el('p', 'Total of every ok read over time' + (r.totals && r.totals.sampled ? ' (sampled; bad reads always kept)' : '') +
			'; the expected ' + exp + ' dashed; faults shaded; offending reads in red, this one ringed.', 'note'));
		var vp = valuePlot(host, pts, { expected: exp, ytitle: 'total', cls: 'bank-totals' });
		/* This read's balances. */
		if (fl.op && fl.op.value && typeof fl.op.value === 'object') {
			var bal = el('table', null, 'lin balances'), h = el('tr'), v = el('tr');
			var accts = Object.keys(fl.op.value);
			(fl.accounts && typeof fl.accounts === 'object' && !Array.isArray(fl.accounts) ? Object.keys(fl.accounts) : []).forEach(function (a) { if (accts.indexOf(a) < 0) accts.push(a); });
			h.appendChild(el('th', 'account')); v.appendChild(el('th', 'balance'));
			accts.forEach(function (a) {
				h.appendChild(el('th', a));
				var b = fl.op.value[a];
				v.appendChild(el('td', b === undefined ? 'missing' : vtext(b), typeof b !== 'number' || b < 0 ? 'bad' : 'state'));
			});
			var sum = typeof fl.total === 'number' ? fl.total : accts.reduce(function (t, a) { return t + (typeof fl.op.value[a] === 'number' ? fl.op.value[a] : 0); }, 0);
			h.appendChild(el('th', 'total')); v.appendChild(el('td', sum + ' (expected ' + exp + ')', sum !== exp ? 'bad' : 'state'));
			var tb = el('tbody'); tb.appendChild(h); tb.appendChild(v); bal.appendChild(tb);
			var w1 = el('div', null, 'scroll'); w1.appendChild(bal); host.appendChild(w1);
		}
		/* Every offending read of this checker. */
		var mineList = FAILS.map(function (y, fi) { return [y, fi]; }).filter(function (p) { return p[0].checker === x.checker; });
		var tbl = el('table', null, 'lin bank-bad'), tr = el('tr');
		['', 'kind', 'read', 'process', 'node', 'completed', 'total', 'balances'].forEach(function (hh) { tr.appendChild(el('th', hh)); });
		var th = el('thead'); th.appendChild(tr); tbl.appendChild(th);
		var body2 = el('tbody');
		mineList.slice(0, 50).forEach(function (p) {
			var f = p[0].f, o = f.op || {}, sp = oprefSpan(o), row = el('tr', null, p[1] === selectedFail ? 'bad' : '');
			var c0 = el('td'); c0.appendChild(failLink(p[1], '#' + (p[1] + 1))); row.appendChild(c0);
			row.appendChild(el('td', f.kind));
			var td = el('td'); if (typeof o.index === 'number') td.appendChild(opLink(o.index)); row.appendChild(td);
			row.appendChild(el('td', typeof o.process === 'number' ? procName(o.process) : '\u2013'));
			row.appendChild(el('td', typeof o.node === 'string' ? o.node : '\u2013'));
			row.appendChild(el('td', sp.b === null ? '\u2013' : fmtS(sp.b)));
			var tot = typeof f.total === 'number' ? f.total : o.value && typeof o.value === 'object' ? Object.keys(o.value).reduce(function (t, k) { return t + (typeof o.value[k] === 'number' ? o.value[k] : 0); }, 0) : null;
			row.appendChild(el('td', tot === null ? '\u2013' : String(tot), tot !== exp ? 'bad' : ''));
			row.appendChild(el('td', o.value && typeof o.value === 'object' ? Object.keys(o.value).map(function (k) { return k + ' ' + vtext(o.value[k]); }).join(', ') : vtext(o.value), 'state'));
			body2.appendChild(row);
		});
		tbl.appendChild(body2);
		var w2 = el('div', null, 'scroll'); w2.appendChild(tbl); host.appendChild(w2);
		var omitted = typeof r.failures_omitted === 'number' ? r.failures_omitted : 0;
		if (mineList.length > 50 || omitted) host.appendChild(el('p', 'and ' + (mineList.length - Math.min(50, mineList.length) + omitted) + ' more offending reads (results.json counts them by kind: ' + JSON.stringify(r.error_kinds || {}) + ')', 'note more'));
		mark('bank-points', pts.length);
		mark('bank-bad-points', vp.bad);
		mark('bank-rows', Math.min(50, mineList.length));
		mark('strip-faults', vp.st.faults);
		if (fl.op) { var j = findOpAny(fl.op.index); if (j >= 0) highlight[j] = '#7a0010'; }
		timelineButton(host, fx.ops);
		return pts.length;
	}

	/* ---- counter: every ok read against the bounds it had to lie in
	 * ([lower, upper] as a bar, the value as a dot), faults shaded ---- */
	function renderCounter(host, x, fx) {
		var fl = x.f, r = x.result || {}, mine = fl.op ? fl.op.index : -1;
		var pts = seriesOf(r, 'reads').map(function (p) {
			var j = findOpAny(p.index), bad = p.value < p.lower || p.value > p.upper;
			return { t: j >= 0 ? t1[j] : p.time / 1000, v: p.value, lo: p.lower, hi: p.upper, index: p.index, bad: bad, sel: p.index === mine,
				tip: 'read ' + p.value + ', bounds [' + p.lower + ', ' + p.upper + ']' + (p.value < p.lower ? ': ' + (p.lower - p.value) + ' below' : p.value > p.upper ? ': ' + (p.value - p.upper) + ' above' : '') };
		});
		if (!pts.length) return renderJSON(host, x, fx);
		if (typeof fl.value === 'number' && typeof fl.lower === 'number') {
			var d = fl.value < fl.lower ? fl.lower - fl.value + ' below the lower bound' : fl.value - fl.upper + ' above the upper bound';
			host.appendChild(el('p', 'This read returned ' + fl.value + '; it had to lie in [' + fl.lower + ', ' + fl.upper + ']: ' + d +
				'. Lower: adds acknowledged before it began; upper: adds that may have happened before it ended' +
				(typeof r.initial === 'number' && r.initial ? ' (from ' + r.initial + ')' : '') + '.', 'counter-words'));
		}
		host.appendChild(el('p', 'Every ok read' + (r.reads && r.reads.sampled ? ' (sampled; bad reads always kept)' : '') +
			': its bounds as a grey bar, its value as a dot, out-of-bounds reads in red, this one ringed; faults shaded.', 'note'));
		var vp = valuePlot(host, pts, { ytitle: 'counter', cls: 'counter-reads', line: false });
		/* Close up: the reads around this one, where the bounds are visible. */
		var at = -1;
		pts.forEach(function (p, i) { if (p.sel) at = i; });
		if (at >= 0) {
			var near = pts.slice(Math.max(0, at - 8), at + 9);
			var sp = padSpan([near[0].t, near[near.length - 1].t]);
			host.appendChild(el('p', 'Close up: the ' + near.length + ' reads around this one.', 'note'));
			valuePlot(host, near, { ytitle: 'counter', cls: 'counter-close', line: false, span: sp, height: 150, barWidth: 9 });
		}
		var list = el('p', null, 'note');
		list.appendChild(el('b', 'out-of-bounds reads: '));
		var mineList = [];
		FAILS.forEach(function (y, fi) { if (y.checker === x.checker) mineList.push(fi); });
		listMore(list, mineList, mineList.length + (r.failures_omitted || 0), 20, function (fi) {
			var f = FAILS[fi].f;
			return failLink(fi, '#' + (f.op ? f.op.index : '?') + ' ' + vtext(f.value) + ' \u2209 [' + vtext(f.lower) + ', ' + vtext(f.upper) + ']');
		});
		host.appendChild(list);
		mark('counter-points', pts.length);
		mark('counter-bad-points', vp.bad);
		mark('strip-faults', vp.st.faults);
		if (fl.op) { var j = findOpAny(fl.op.index); if (j >= 0) highlight[j] = '#7a0010'; }
		timelineButton(host, fx.ops);
		return pts.length;
	}

	/* ---- lock: the holders a failure names (and the overlapping pairs the
	 * checker found), each an interval from its acquire's completion to its
	 * release's invocation or its crash, one lane per holder, grouped by
	 * lock key; tokens and fenced writes on the bars; overlaps in red; then,
	 * for a mutex counterexample, the linearization ---- */
	function holdKey(h) { return h.acquire && h.acquire.key !== undefined && h.acquire.key !== null ? vtext(h.acquire.key) : ''; }
	function renderLock(host, x, fx) {
		var fl = x.f, r = x.result || {}, hs = [], seen = {};
		function addHold(h) {
			if (!h || typeof h.start_index !== 'number') return;
			var k = h.start_index + '/' + h.process;
			if (!seen[k]) { seen[k] = 1; hs.push(h); }
		}
		/* A fencing failure's holders are as the checker saw them when the
		 * write completed (a hold still open then has no end): take the
		 * finished interval from the overlaps or another failure's holders. */
		var final = {};
		function note(h) { if (h && typeof h.start_index === 'number' && h.end_time >= 0) final[h.start_index + '/' + h.process] = h; }
		(r.overlaps || []).forEach(function (p) { if (p) { note(p.first); note(p.second); } });
		FAILS.forEach(function (y) { if (y.checker === x.checker && y.f && Array.isArray(y.f.holders)) y.f.holders.forEach(note); });
		(fl.holders || []).forEach(function (h) { addHold(h && h.end_time < 0 && final[h.start_index + '/' + h.process] || h); });
		var pairs = (r.overlaps || []).filter(function (p) {
			return p && p.first && p.second && (seen[p.first.start_index + '/' + p.first.process] || seen[p.second.start_index + '/' + p.second.process]);
		});
		pairs.forEach(function (p) { addHold(p.first); addHold(p.second); });
		if (!hs.length) return fl.kind === 'nonlinearizable' ? renderLinearizable(host, x, fx) : renderJSON(host, x, fx);
		function endOf(h) { return h.end_time >= 0 ? h.end_time / 1000 : END; }
		function holdAt(h) {
			for (var i = 0; i < hs.length; i++) if (hs[i].start_index === h.start_index && hs[i].process === h.process) return i;
			return -1;
		}
		hs.sort(function (a, b) { return holdKey(a) < holdKey(b) ? -1 : holdKey(a) > holdKey(b) ? 1 : a.start_time - b.start_time; });
		var times = [];
		hs.forEach(function (h) { times.push(h.start_time / 1000, endOf(h)); if (h.acquire) times.push(h.acquire); if (h.write) times.push(h.write); if (h.release) times.push(h.release); });
		if (fl.op) times.push(fl.op);
		var span = padSpan(spanOf(times));
		var keys = [];
		hs.forEach(function (h) { if (keys.indexOf(holdKey(h)) < 0) keys.push(holdKey(h)); });
		var LH = 34, hgt = hs.length * LH + keys.length * 18 + 6;
		var st = strip(span[0], span[1], hgt, { cls: 'lock-holders', left: 190 });
		var y = st.top + 4, lastKey = null, nOver = 0, laneOf = [];
		hs.forEach(function (h, i) {
			if (holdKey(h) !== lastKey) {
				lastKey = holdKey(h);
				st.g.appendChild(svg('text', { x: 8, y: y + 12, fill: '#5c667a', 'font-weight': 'bold', 'class': 'lock-key' }, lastKey === '' ? 'the lock' : 'lock ' + lastKey));
				y += 18;
			}
			var ly = y + LH / 2 - 4;
			laneOf[i] = ly;
			y += LH;
			stripLane(st, ly, procName(h.process) + (h.token !== null && h.token !== undefined ? '  token ' + vtext(h.token) : ''), 'holder');
			if (h.acquire) stripOp(st, h.acquire, ly - 9, '#b8c4d6', 'op acquire', 'acquire by ' + procName(h.process), 5);
			if (h.release) stripOp(st, h.release, ly - 9, '#b8c4d6', 'op release', 'release by ' + procName(h.process), 5);
			var x0 = st.x(h.start_time / 1000), x1 = Math.max(st.x(endOf(h)), x0 + 2);
			var bar = svg('rect', { x: x0, y: ly - 5, width: x1 - x0, height: 11, rx: 3, fill: '#3a86ff', opacity: 0.85, 'class': 'hold' });
			bar.appendChild(svg('title', {}, procName(h.process) + ' holds' + (h.token !== undefined && h.token !== null ? ' token ' + vtext(h.token) : '') +
				'\nfrom ' + fmtT(h.start_time / 1000) + ' (acquire completed, #' + h.start_index + ')\nto ' +
				(h.end_time >= 0 ? fmtT(h.end_time / 1000) + ' (' + h.ended_by + (h.end_index >= 0 ? ', #' + h.end_index : '') + ')' : 'the end (' + h.ended_by + ')')));
			st.g.appendChild(bar);
			if (x1 - x0 > 60) st.g.appendChild(svg('text', { x: x0 + 4, y: ly + 4, fill: '#fff', 'class': 'hold-label' }, fitSvg(procName(h.process) + (h.token !== null && h.token !== undefined ? ' #' + vtext(h.token) : '') + ' \u2192 ' + h.ended_by, x1 - x0 - 8)));
			if (h.write) {
				var wj = findOpAny(h.write.index), wv = wj >= 0 ? opValue(wj) : vtext(h.write.value);
				stripOp(st, h.write, ly + 10, '#06a77d', 'op write', 'fenced write by ' + procName(h.process) + ': ' + wv + ' ([token, token it replaced])', 5);
			}
		});
		/* Overlaps: certain double holding, in red across both lanes. */
		pairs.forEach(function (p) {
			var i = holdAt(p.first), k2 = holdAt(p.second);
			if (i < 0 || k2 < 0) return;
			var a = Math.max(p.first.start_time, p.second.start_time) / 1000, b = Math.min(endOf(p.first), endOf(p.second));
			if (!(b >= a)) return;
			var ya = Math.min(laneOf[i], laneOf[k2]) - 7, yb = Math.max(laneOf[i], laneOf[k2]) + 8;
			var ov = svg('rect', { x: st.x(a), y: ya, width: Math.max(2, st.x(b) - st.x(a)), height: yb - ya, fill: '#d62828', opacity: 0.3, 'class': 'overlap' });
			ov.appendChild(svg('title', {}, 'both held: ' + procName(p.first.process) + ' (token ' + vtext(p.first.token) + ') and ' + procName(p.second.process) +
				' (token ' + vtext(p.second.token) + ') from ' + fmtT(a) + ' to ' + fmtT(b) + ' (' + fmtDur(b - a) + ')'));
			st.g.appendChild(ov);
			nOver++;
		});
		if (fl.op) {
			var sp = oprefSpan(fl.op);
			if (sp.a !== null) {
				var bx = st.x(sp.b);
				st.g.appendChild(svg('line', { x1: bx, x2: bx, y1: st.top, y2: st.top + st.h, stroke: '#7a0010', 'stroke-width': 1.5, 'stroke-dasharray': '3 3', 'class': 'blamed' }));
				st.g.appendChild(svg('text', { x: Math.min(bx + 4, st.right - 120), y: st.top + 10, fill: '#7a0010', 'class': 'blamed' }, 'this ' + vtext(fl.op.f) + ' (#' + fl.op.index + ')'));
			}
		}
		host.appendChild(el('p', 'Each holder from its acquire\u2019s completion to its release\u2019s invocation (or its crash); acquire and release ops in grey above, fenced writes in green below; ' +
			(nOver ? 'red: both held the lock at once (' + plural(typeof r.overlap_count === 'number' ? r.overlap_count : nOver, 'overlap') + ' in the run)' : 'no two of these intervals overlap for certain') + '; faults shaded.', 'note'));
		host.appendChild(st.svg);
		var tbl = el('table', null, 'lin lock-table'), tr = el('tr');
		['lock', 'process', 'token', 'holds from', 'to', 'ended by', 'acquire', 'write [token, replaced]', 'release'].forEach(function (hh) { tr.appendChild(el('th', hh)); });
		var th = el('thead'); th.appendChild(tr); tbl.appendChild(th);
		var tb = el('tbody');
		hs.forEach(function (h) {
			var row = el('tr');
			row.appendChild(el('td', holdKey(h) || '\u2013'));
			row.appendChild(el('td', procName(h.process)));
			row.appendChild(el('td', h.token === null || h.token === undefined ? '\u2013' : vtext(h.token), 'state'));
			row.appendChild(el('td', fmtS(h.start_time / 1000)));
			row.appendChild(el('td', h.end_time >= 0 ? fmtS(h.end_time / 1000) : '\u2013'));
			row.appendChild(el('td', h.ended_by));
			['acquire', 'write', 'release'].forEach(function (k) {
				var td = el('td'), o = h[k];
				if (o && typeof o.index === 'number') {
					var j = findOpAny(o.index);
					td.appendChild(opLink(o.index, '#' + o.index + (k === 'write' && j >= 0 ? ' ' + opValue(j) : '')));
				} else td.textContent = '\u2013';
				row.appendChild(td);
			});
			tb.appendChild(row);
		});
		tbl.appendChild(tb);
		var w = el('div', null, 'scroll'); w.appendChild(tbl); host.appendChild(w);
		if (fl.kind === 'fencing-backwards')
			host.appendChild(el('p', 'Check ' + vtext(fl.check) + ': token ' + vtext(fl.op && fl.op.value && fl.op.value[0] !== undefined ? fl.op.value[0] : fl.op && fl.op.value) +
				', newer token ' + vtext(fl.newer_token) + (fl.newer_index >= 0 ? ' (op #' + fl.newer_index + ')' : '') + '.', 'counter-words'));
		mark('lock-holders', hs.length);
		mark('lock-overlaps', nOver);
		mark('lock-keys', keys.length);
		mark('strip-faults', st.faults);
		var n = hs.length;
		if (fl.kind === 'nonlinearizable' && fl.prefix) {
			host.appendChild(el('h3', 'The mutex counterexample', 'sub-h'));
			renderLinearizable(host, x, fx);
		} else {
			fx.ops.forEach(function (j) { if (!highlight[j]) highlight[j] = '#7a0010'; });
			timelineButton(host, fx.ops);
		}
		return n;
	}
	function fitSvg(text, w) { var n = Math.floor(w / 6.5); return text.length <= n ? text : n > 2 ? text.slice(0, n - 1) + '\u2026' : ''; }

	/* ---- the failures table and the selected failure ---- */
	var failOrder = [], failSort = 'time', failRowsShown = 200;
	function sortFails() {
		failOrder = FAILS.map(function (x, j) { return j; });
		function num(a) { return a === null || a === undefined ? Infinity : a; }
		var cmpKey = function (a, b) {
			var x = facts(FAILS[a]).keys[0], y = facts(FAILS[b]).keys[0];
			var nx = Number(x), ny = Number(y);
			if (x !== undefined && y !== undefined && !isNaN(nx) && !isNaN(ny) && nx !== ny) return nx - ny;
			return x === y ? 0 : x === undefined ? 1 : y === undefined ? -1 : x < y ? -1 : 1;
		};
		var cmpTime = function (a, b) { return num(facts(FAILS[a]).t0) - num(facts(FAILS[b]).t0) || a - b; };
		failOrder.sort(failSort === 'key' ? function (a, b) { return cmpKey(a, b) || cmpTime(a, b); }
			: failSort === 'kind' ? function (a, b) { var x = facts(FAILS[a]).what, y = facts(FAILS[b]).what; return x < y ? -1 : x > y ? 1 : cmpTime(a, b); }
				: cmpTime);
	}
	function drawFailTable() {
		var host = document.getElementById('fail-table');
		host.textContent = '';
		var tools = el('div', null, 'tools');
		tools.appendChild(el('span', 'order by'));
		['time', 'key', 'kind'].forEach(function (s) {
			var b = el('button', s, failSort === s ? 'on' : '');
			b.addEventListener('click', function () { failSort = s; sortFails(); drawFailTable(); });
			tools.appendChild(b);
		});
		tools.appendChild(el('span', 'click a row to draw that failure'));
		host.appendChild(tools);
		var multi = Object.keys(RES && RES.checkers || {}).length > 1;
		var tbl = el('table', null, 'q fails'), tr = el('tr');
		var cols = ['#', 'what', 'key', 'op', 'process', 'node', D.wall0 ? 'time (wall clock UTC)' : 'time', 'faults active then'];
		if (multi) cols.push('checker');
		cols.forEach(function (h) { tr.appendChild(el('th', h)); });
		var th = el('thead'); th.appendChild(tr); tbl.appendChild(th);
		var tb = el('tbody');
		failOrder.slice(0, failRowsShown).forEach(function (fi) {
			var x = FAILS[fi], fx = facts(x), row = el('tr', null, fi === selectedFail ? 'sel' : '');
			row.setAttribute('data-failure', String(fi));
			row.appendChild(el('td', fi + 1));
			row.appendChild(el('td', fx.what));
			var kt = fx.keys.slice(0, 4).join(', ') + (fx.keys.length > 4 ? ', \u2026' : '');
			row.appendChild(el('td', fx.keys.length ? (kt.length > 30 ? kt.slice(0, 29) + '\u2026' : kt) : '\u2013'));
			var td = el('td');
			var main = fx.main >= 0 ? fx.main : -1;
			if (main >= 0) {
				var ot = S.f[fOf[main]] + ' ' + opValue(main);
				td.appendChild(opLink(idx[main], ot.length > 40 ? ot.slice(0, 39) + '\u2026' : ot));
				td.appendChild(el('small', ' #' + idx[main]));
				if (fx.ops.length > 1 && kindOf(x.f) !== 'nonlinearizable') td.appendChild(el('small', ' +' + (fx.ops.length - 1)));
			} else if (x.f && x.f.op && typeof x.f.op.index === 'number') td.textContent = '#' + x.f.op.index;
			else td.textContent = '\u2013';
			row.appendChild(td);
			row.appendChild(el('td', fx.procs.length ? fx.procs.slice(0, 4).map(procName).join(', ') : '\u2013'));
			var nd = el('td');
			var mainNode = main >= 0 ? str('nodes', nodeOf[main]) : null;
			var nodes = mainNode !== null && kindOf(x.f) === 'nonlinearizable' ? [mainNode] : fx.nodes;
			if (nodes.length) nodes.forEach(function (n, j) { if (j) nd.appendChild(document.createTextNode(', ')); nd.appendChild(nodeLink(n)); });
			else nd.textContent = '\u2013';
			row.appendChild(nd);
			var tcell = el('td', fx.t0 === null ? '\u2013' : fmtS(fx.t0));
			if (fx.t0 !== null && D.wall0) tcell.appendChild(el('small', ' ' + fmtWall(fx.t0)));
			row.appendChild(tcell);
			row.appendChild(el('td', faultsWords(fx.faults), fx.faults.length ? 'during' : 'nofault'));
			if (multi) row.appendChild(el('td', x.checker));
			row.title = (x.f && x.f.message) || '';
			row.addEventListener('click', function (ev) {
				if (ev.target.tagName === 'A') return;
				selectFailure(fi, true);
			});
			tb.appendChild(row);
		});
		tbl.appendChild(tb);
		var wrap = el('div', null, 'scroll fails-wrap');
		wrap.appendChild(tbl);
		host.appendChild(wrap);
		if (failOrder.length > failRowsShown) {
			var more = el('button', 'show all ' + failOrder.length + ' failures');
			more.addEventListener('click', function () { failRowsShown = Infinity; drawFailTable(); });
			host.appendChild(more);
		}
		mark('failure-rows', Math.min(failOrder.length, failRowsShown));
	}
	var selectedFail = -1;
	function selectFailure(fi, scroll) {
		if (fi < 0 || fi >= FAILS.length) return;
		selectedFail = fi;
		var host = document.getElementById('cex'), x = FAILS[fi], fx = facts(x);
		host.textContent = '';
		Object.keys(highlight).forEach(function (h) { delete highlight[h]; });
		hoverTarget = null;
		['lin-rows', 'lin-states', 'lin-cause', 'cycle-txns', 'cycle-edges', 'json-fallback', 'setfull-element', 'setfull-saw',
			'setfull-missed', 'setfull-overview-marks', 'bank-points', 'bank-bad-points', 'bank-rows', 'counter-points',
			'counter-bad-points', 'lock-holders', 'lock-overlaps', 'lock-keys', 'strip-faults'].forEach(function (a) { body.removeAttribute('data-' + a); });
		var words = el('p', null, 'cex-words');
		var kind = kindOf(x.f);
		words.appendChild(el('b', '#' + (fi + 1) + ' ' + x.checker + (x.model ? ' (' + x.model + ')' : '') + ', ' + kind +
			(fx.keys.length ? ', key ' + fx.keys.join(', ') : '') + ': '));
		words.appendChild(document.createTextNode((x.f && x.f.message) || fx.what));
		host.appendChild(words);
		var r = rendererFor(x);
		var n = r(host, x, fx);
		if (r !== renderJSON && r !== renderOps) host.appendChild(jsonBlock(x.f, false));
		mark('cex-ops', n || 0);
		mark('cex-kind', kind);
		mark('cex-renderer', r === renderLinearizable ? 'linearizable' : r === renderCycle ? 'cycle' : r === renderOps ? 'ops' :
			body.getAttribute('data-json-fallback') ? 'json' : r === renderSetFull ? 'set-full' : r === renderBank ? 'bank' :
				r === renderCounter ? 'counter' : r === renderLock ? 'lock' : 'json');
		mark('selected-failure', fi);
		Array.prototype.forEach.call(document.querySelectorAll('table.fails tbody tr'), function (tr) {
			tr.className = +tr.getAttribute('data-failure') === fi ? 'sel' : '';
		});
		if (scroll) host.scrollIntoView({ block: 'start' });
		if (tl) repaint();
	}
	function drawFailures() {
		var sec = document.getElementById('why');
		var cs = RES && RES.checkers || {};
		var unknown = Object.keys(cs).filter(function (n) { return cs[n] && cs[n].valid !== true && cs[n].valid !== false; });
		if (!FAILS.length) {
			if (!unknown.length && !(RES && RES.error)) return;
			sec.hidden = false;
			document.getElementById('why-title').textContent = 'Why it is unknown';
			document.getElementById('headline').textContent = unknown.map(function (n) {
				return n + ': ' + (cs[n].unknown_reason || cs[n].error || 'could not decide') +
					(Array.isArray(cs[n].unfinished_keys) ? ' (keys ' + cs[n].unfinished_keys.slice(0, 10).join(', ') + ')' : '');
			}).concat(RES && RES.error ? [String(RES.error)] : []).join('; ');
			return;
		}
		sec.hidden = false;
		if (RES && RES.valid !== false) document.getElementById('why-title').textContent = 'What the checkers found';
		document.getElementById('headline').textContent = headline();
		sortFails();
		drawFailTable();
		selectFailure(failOrder[0], false);
		mark('failures', FAILS.length);
	}

	/* ================================================================
	 * The shared time axis: every time chart shows view.v0..v1, which the
	 * operations timeline's zoom and pan set.
	 * ================================================================ */
	var view = { v0: 0, v1: END }, tl = null, chartTimer = 0;
	var failTimes = [];
	function collectFailTimes() {
		failTimes = [];
		FAILS.forEach(function (x, fi) { var fx = facts(x); if (fx.t0 !== null) failTimes.push([fx.main >= 0 ? t0[fx.main] : fx.t0, fi]); });
		failTimes.sort(function (a, b) { return a[0] - b[0]; });
	}
	/* Failures as red triangles just above the time axis at y. */
	function failTicks(cv, v0, v1, top, y, name) {
		var ctx = cv.ctx, n = 0;
		ctx.save();
		failTimes.forEach(function (ft) {
			if (ft[0] < v0 || ft[0] > v1) return;
			var x = Math.round(xOf(cv, v0, v1, ft[0])) + 0.5;
			ctx.strokeStyle = 'rgba(214,40,40,0.35)';
			ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, y); ctx.stroke();
			ctx.fillStyle = ft[1] === selectedFail ? '#7a0010' : FAILC;
			ctx.beginPath(); ctx.moveTo(x - 5, y - 9); ctx.lineTo(x + 5, y - 9); ctx.lineTo(x, y - 1); ctx.closePath(); ctx.fill();
			n++;
		});
		ctx.restore();
		mark('ticks-' + name, n);
		return n;
	}
	/* The failure whose tick is under the mouse, or -1. */
	function tickAt(cv, v0, v1, x, y, axisY) {
		if (y < axisY - 14 || y > axisY + 2) return -1;
		var best = -1, bd = 6;
		failTimes.forEach(function (ft) { var d = Math.abs(xOf(cv, v0, v1, ft[0]) - x); if (d < bd) { bd = d; best = ft[1]; } });
		return best;
	}
	function tickTip(fi) {
		var x = FAILS[fi], fx = facts(x);
		return 'failure #' + (fi + 1) + ': ' + fx.what + (fx.keys.length ? ', key ' + fx.keys.join(', ') : '') +
			(fx.t0 !== null ? '\nat ' + fmtT(fx.t0) + (fmtWall(fx.t0) ? '  (' + fmtWall(fx.t0) + ')' : '') : '') +
			'\nfaults active: ' + faultsWords(fx.faults) + '\nclick to draw it';
	}
	function bindTicks(cv, axisY, other) {
		cv.c.addEventListener('mousemove', function (ev) {
			var b = cv.c.getBoundingClientRect(), x = ev.clientX - b.left, y = ev.clientY - b.top;
			var fi = tickAt(cv, view.v0, view.v1, x, y, axisY);
			if (fi >= 0) { showTip(ev, tickTip(fi)); cv.c.style.cursor = 'pointer'; return; }
			cv.c.style.cursor = '';
			if (other) other(ev, x, y); else hideTip();
		});
		cv.c.addEventListener('click', function (ev) {
			var b = cv.c.getBoundingClientRect(), fi = tickAt(cv, view.v0, view.v1, ev.clientX - b.left, ev.clientY - b.top, axisY);
			if (fi >= 0) selectFailure(fi, true);
		});
		cv.c.addEventListener('mouseleave', hideTip);
	}

	var marks = {};
	/* Where op j is drawn on a chart (canvas, x, y), for #probe= below. */
	var probes = {};

	/* ---- faults: a row per fault kind ---- */
	function drawFaults() {
		var host = document.getElementById('faults'), rowH = 26, v0 = view.v0, v1 = view.v1;
		var rows = Math.max(kinds.length, 1), cv = canvas(host, rows * rowH + 30), ctx = cv.ctx;
		var axisY = rows * rowH + 6;
		timeAxis(cv, v0, v1, 0, axisY);
		ctx.textBaseline = 'middle';
		if (!kinds.length) {
			ctx.fillStyle = '#5c667a';
			ctx.textAlign = 'left';
			ctx.fillText('no faults were injected', L + 8, rowH / 2);
		}
		kinds.forEach(function (kd, r) {
			ctx.fillStyle = '#1d2433';
			ctx.textAlign = 'right';
			ctx.fillText(fitText(ctx, kd, L - 12), L - 8, r * rowH + rowH / 2);
		});
		ctx.save();
		ctx.beginPath(); ctx.rect(L, 0, cv.pw, cv.h); ctx.clip();
		var drawn = 0;
		D.faults.forEach(function (f) {
			if (f.t1 < v0 || f.t0 > v1) return;
			var r = kinds.indexOf(f.kind), y = r * rowH + 3;
			var x0 = xOf(cv, v0, v1, f.t0), x1 = Math.max(x0 + 2, xOf(cv, v0, v1, f.t1));
			ctx.fillStyle = kindColor[f.kind];
			ctx.globalAlpha = 0.28;
			ctx.fillRect(x0, y, x1 - x0, rowH - 6);
			ctx.globalAlpha = 1;
			ctx.fillRect(x0, y, 2, rowH - 6);
			ctx.fillStyle = '#1d2433';
			ctx.textAlign = 'left';
			var lx = Math.max(x0, L) + 5, room = Math.min(x1, L + cv.pw) - lx - 3;
			ctx.fillText(fitText(ctx, targetsLabel(f.targets) || f.kind, room), lx, y + (rowH - 6) / 2);
			drawn++;
		});
		ctx.restore();
		failTicks(cv, v0, v1, 0, axisY, 'faults');
		marks.faults = drawn;
		mark('faults-view', Math.round(v0) + ',' + Math.round(v1));
		bindTicks(cv, axisY, function (ev, x, y) {
			var r = Math.floor(y / rowH), t = v0 + (x - L) / cv.pw * (v1 - v0), tol = 3 / cv.pw * (v1 - v0);
			var hit = D.faults.filter(function (f) { return kinds.indexOf(f.kind) === r && f.t0 - tol <= t && t <= f.t1 + tol; });
			if (hit.length) showTip(ev, hit.map(faultText).join('\n\n')); else hideTip();
		});
	}

	/* ---- latency by operation: colour per op kind, shape per outcome ---- */
	var SHAPE = [0, 2, 3, 3, 1]; /* ok square, fail plus, info cross, expected fail hollow square */
	var SHAPEG = ['\u25a0', '+', '\u00d7', '\u00d7', '\u25a1'];
	function latRange() {
		var lo = Infinity, hi = 0;
		for (var j = 0; j < N; j++) if (dur[j] >= 0) { var d = Math.max(dur[j], 1); if (d < lo) lo = d; if (d > hi) hi = d; }
		if (hi === 0) { lo = 100; hi = 1e6; }
		var e0 = Math.floor(Math.log10(lo)), e1 = Math.max(Math.ceil(Math.log10(hi)), e0 + 1);
		return [e0, e1];
	}
	var LAT = null;
	function logAxis(cv, e0, e1, top, bottom) {
		var ctx = cv.ctx;
		ctx.textAlign = 'right';
		ctx.textBaseline = 'middle';
		for (var e = e0; e <= e1; e++) {
			var y = Math.round(bottom - (e - e0) / (e1 - e0) * (bottom - top)) + 0.5;
			ctx.strokeStyle = '#eef0f4';
			ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(L + cv.pw, y); ctx.stroke();
			ctx.fillStyle = '#5c667a';
			var us = Math.pow(10, e);
			ctx.fillText(us < 1000 ? us + ' \u00b5s' : us < 1e6 ? us / 1000 + ' ms' : us / 1e6 + ' s', L - 6, y);
		}
	}
	function drawLatency() {
		var host = document.getElementById('latency'), cv = canvas(host, 300), ctx = cv.ctx, v0 = view.v0, v1 = view.v1;
		var top = 8, bottom = 270, j;
		if (!LAT) LAT = latRange();
		var e0 = LAT[0], e1 = LAT[1];
		function yOf(us) { return bottom - (Math.log10(Math.max(us, 1)) - e0) / (e1 - e0) * (bottom - top); }
		shadeFaults(cv, v0, v1, top, bottom, 0.13);
		timeAxis(cv, v0, v1, top, bottom);
		logAxis(cv, e0, e1, top, bottom);
		yTitle(cv, 'latency (log scale)', top, bottom);
		var lo = lowerBound(t0, v0), hi = lowerBound(t0, v1 + 1), n = hi - lo;
		/* dense plots are drawn opaque: blending a million marks costs seconds */
		var sz = n > 20000 ? 2 : n > 2000 ? 3 : 4, drawn = 0, px = pixels(cv), alpha = n > 200000 ? 1 : n > 20000 ? 0.6 : 0.85;
		var xs = cv.pw / (v1 - v0);
		[TY_OK, TY_EXPECTED, TY_INFO, TY_FAIL].forEach(function (t) {
			var off = shapeOffsets(sz, SHAPE[t]);
			for (j = lo; j < hi; j++) {
				if (ty[j] !== t) continue;
				px.shape(L + (t0[j] - v0) * xs, yOf(dur[j]), off, FCOLRGB[fOf[j]], alpha);
				drawn++;
			}
		});
		px.flush();
		probes.latency = function (m) { return [cv.c, L + (t0[m] - v0) * xs, yOf(dur[m])]; };
		failTicks(cv, v0, v1, top, bottom, 'latency');
		marks.latency = drawn;
		var counts = [0, 0, 0, 0, 0], byF = S.f.map(function () { return 0; });
		for (j = 0; j < N; j++) { counts[ty[j]]++; byF[fOf[j]]++; }
		var items = [];
		S.f.forEach(function (f, m) { if (byF[m]) items.push([f, fColor[m]]); });
		[TY_OK, TY_EXPECTED, TY_FAIL, TY_INFO].forEach(function (t) { if (counts[t]) items.push([TYN[t] + ' (' + counts[t] + ')', '#5c667a', 0, SHAPEG[t]]); });
		kinds.forEach(function (kd) { items.push(['fault: ' + kd, kindColor[kd], 0.35]); });
		if (failTimes.length) items.push(['\u25bc failure', FAILC]);
		legend(document.getElementById('lat-legend'), items);
		bindTicks(cv, bottom, function (ev, x, y) {
			var t = v0 + (x - L) / cv.pw * (v1 - v0), tol = 4 / cv.pw * (v1 - v0);
			var a = lowerBound(t0, t - tol), b = lowerBound(t0, t + tol), best = -1, bd = 7;
			for (var m = a; m < b && m < a + 5000; m++) {
				if (dur[m] < 0) continue;
				var d = Math.abs(yOf(dur[m]) - y) + Math.abs(L + (t0[m] - v0) * xs - x) / 2;
				if (d < bd) { bd = d; best = m; }
			}
			if (best >= 0) showTip(ev, opText(best)); else hideTip();
		});
	}

	/* ---- latency quantiles over time (ok ops, by completion time) ---- */
	var QS = [[0.5, 'p50', '#2a9d8f'], [0.95, 'p95', '#3a86ff'], [0.99, 'p99', '#8338ec'], [1, 'max', '#e63946']];
	function drawQuantiles() {
		var host = document.getElementById('quantiles'), cv = canvas(host, 240), ctx = cv.ctx, v0 = view.v0, v1 = view.v1;
		var top = 8, bottom = 210, bucket = niceStep(v1 - v0, Math.max(20, cv.pw / 12)), b0 = Math.floor(v0 / bucket);
		var nb = Math.max(1, Math.ceil(v1 / bucket) - b0), j, m;
		if (!LAT) LAT = latRange();
		var e0 = LAT[0], e1 = LAT[1];
		function yOf(us) { return bottom - (Math.log10(Math.max(us, 1)) - e0) / (e1 - e0) * (bottom - top); }
		/* latencies of ok ops completing in view, grouped by bucket */
		var lo = lowerBound(t0, v0 - maxDur), hi = lowerBound(t0, v1 + 1), cnt = new Int32Array(nb + 1);
		for (j = lo; j < hi; j++) if (ty[j] === TY_OK && t1[j] >= v0 && t1[j] < v1) cnt[Math.floor(t1[j] / bucket) - b0]++;
		var start = new Int32Array(nb + 1);
		for (m = 1; m <= nb; m++) start[m] = start[m - 1] + cnt[m - 1];
		var all = new Float64Array(start[nb]), fill = start.slice();
		for (j = lo; j < hi; j++) if (ty[j] === TY_OK && t1[j] >= v0 && t1[j] < v1) all[fill[Math.floor(t1[j] / bucket) - b0]++] = dur[j];
		var series = QS.map(function () { return new Float64Array(nb).fill(-1); });
		/* Exact (sorted) up to 200,000 ops in view; beyond, from a log-scale
		 * histogram of 1,000 bins per chart (each about 1% wide), which is
		 * linear in the ops instead of n log n. */
		var exact = all.length <= 200000, NBIN = 1000, bins = exact ? null : new Int32Array(NBIN);
		function binOf(us) { return Math.min(NBIN - 1, Math.max(0, Math.floor((Math.log10(Math.max(us, 1)) - e0) / (e1 - e0) * NBIN))); }
		for (m = 0; m < nb; m++) {
			var n = start[m + 1] - start[m];
			if (!n) continue;
			if (exact) {
				var part = all.subarray(start[m], start[m + 1]).sort();
				QS.forEach(function (q, s) { series[s][m] = part[Math.max(0, Math.ceil(q[0] * n) - 1)]; });
				continue;
			}
			bins.fill(0);
			var mx = 0;
			for (j = start[m]; j < start[m + 1]; j++) { bins[binOf(all[j])]++; if (all[j] > mx) mx = all[j]; }
			QS.forEach(function (q, s) {
				if (q[0] >= 1) { series[s][m] = mx; return; }
				var want = Math.max(1, Math.ceil(q[0] * n)), acc = 0, bi = 0;
				while (bi < NBIN - 1 && acc + bins[bi] < want) acc += bins[bi++];
				series[s][m] = Math.pow(10, e0 + (bi + 0.5) / NBIN * (e1 - e0));
			});
		}
		shadeFaults(cv, v0, v1, top, bottom, 0.13);
		timeAxis(cv, v0, v1, top, bottom);
		logAxis(cv, e0, e1, top, bottom);
		yTitle(cv, 'latency (log scale)', top, bottom);
		ctx.save();
		ctx.beginPath(); ctx.rect(L, 0, cv.pw, cv.h); ctx.clip();
		var buckets = 0;
		QS.forEach(function (q, s) {
			ctx.strokeStyle = q[2];
			ctx.lineWidth = s === 3 ? 1 : 1.6;
			ctx.beginPath();
			var pen = false;
			for (m = 0; m < nb; m++) {
				var v = series[s][m];
				if (v < 0) { pen = false; continue; }
				var x = xOf(cv, v0, v1, (b0 + m + 0.5) * bucket), y = yOf(v);
				if (pen) ctx.lineTo(x, y); else ctx.moveTo(x, y);
				pen = true;
				if (!s) buckets++;
			}
			ctx.stroke();
		});
		ctx.restore();
		failTicks(cv, v0, v1, top, bottom, 'quantiles');
		marks.quantiles = buckets;
		legend(document.getElementById('q-legend'), QS.map(function (q) { return [q[1], q[2]]; }).concat([['interval ' + fmtDur(bucket), '#fff']]));
		bindTicks(cv, bottom, function (ev, x) {
			var m = Math.floor((v0 + (x - L) / cv.pw * (v1 - v0)) / bucket) - b0;
			if (m < 0 || m >= nb || series[0][m] < 0) { hideTip(); return; }
			showTip(ev, fmtT((b0 + m) * bucket) + ' \u2192 ' + fmtT((b0 + m + 1) * bucket) + '\n' + (start[m + 1] - start[m]) + ' ok ops completed\n' +
				QS.map(function (q, s) { return q[1] + ' ' + fmtDur(series[s][m]); }).join('   '));
		});
	}

	/* ---- throughput per op kind ---- */
	function drawRate() {
		var host = document.getElementById('rate'), cv = canvas(host, 240), ctx = cv.ctx, v0 = view.v0, v1 = view.v1;
		var top = 8, bottom = 210, bucket = niceStep(v1 - v0, 120), b0 = Math.floor(v0 / bucket), nb = Math.max(1, Math.ceil(v1 / bucket) - b0);
		var series = S.f.map(function () { return [new Float64Array(nb), new Float64Array(nb)]; });
		var lo = lowerBound(t0, v0 - maxDur), hi = lowerBound(t0, v1 + 1);
		for (var j = lo; j < hi; j++) {
			if (ty[j] === TY_PENDING || t1[j] < v0 || t1[j] >= v1) continue;
			var good = ty[j] === TY_OK || ty[j] === TY_EXPECTED;
			series[fOf[j]][good ? 0 : 1][Math.floor(t1[j] / bucket) - b0] += 1e6 / bucket;
		}
		var top1 = 1;
		series.forEach(function (s) { for (var b = 0; b < nb; b++) top1 = Math.max(top1, s[0][b], s[1][b]); });
		var ystep = niceStep(top1, 4);
		top1 = Math.ceil(top1 / ystep) * ystep;
		function yOf(v) { return bottom - v / top1 * (bottom - top); }
		shadeFaults(cv, v0, v1, top, bottom, 0.13);
		timeAxis(cv, v0, v1, top, bottom);
		ctx.textAlign = 'right';
		ctx.textBaseline = 'middle';
		for (var v = 0; v <= top1; v += ystep) {
			var y = Math.round(yOf(v)) + 0.5;
			ctx.strokeStyle = '#eef0f4';
			ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(L + cv.pw, y); ctx.stroke();
			ctx.fillStyle = '#5c667a';
			ctx.fillText(String(+v.toPrecision(3)), L - 6, y);
		}
		yTitle(cv, 'completions / s', top, bottom);
		var segs = 0, present = [];
		ctx.save();
		ctx.beginPath(); ctx.rect(L, 0, cv.pw, cv.h); ctx.clip();
		series.forEach(function (s, f) {
			[0, 1].forEach(function (g) {
				var any = false;
				for (var b = 0; b < nb; b++) if (s[g][b]) { any = true; break; }
				if (!any) return;
				present.push([f, g]);
				ctx.strokeStyle = fColor[f];
				ctx.lineWidth = g ? 1.2 : 1.8;
				ctx.setLineDash(g ? [4, 3] : []);
				ctx.beginPath();
				for (b = 0; b < nb; b++) {
					var x = xOf(cv, v0, v1, (b0 + b + 0.5) * bucket), yy = yOf(s[g][b]);
					if (b) ctx.lineTo(x, yy); else ctx.moveTo(x, yy);
					segs++;
				}
				ctx.stroke();
			});
		});
		ctx.restore();
		ctx.setLineDash([]);
		ctx.lineWidth = 1;
		failTicks(cv, v0, v1, top, bottom, 'rate');
		marks.rate = segs;
		legend(document.getElementById('rate-legend'), present.map(function (p) {
			return [S.f[p[0]] + (p[1] ? ' fail (error) / info (dashed)' : ' ok / expected fail'), fColor[p[0]], p[1] ? 0.5 : 0];
		}).concat([['interval ' + fmtDur(bucket), '#fff']]));
		bindTicks(cv, bottom, function (ev, x) {
			var b = Math.floor((v0 + (x - L) / cv.pw * (v1 - v0)) / bucket) - b0;
			if (b < 0 || b >= nb) { hideTip(); return; }
			showTip(ev, fmtT((b0 + b) * bucket) + ' \u2192 ' + fmtT((b0 + b + 1) * bucket) + '\n' +
				present.map(function (p) { return S.f[p[0]] + (p[1] ? ' error/info ' : ' ok ') + series[p[0]][p[1]][b].toFixed(0) + '/s'; }).join('\n'));
		});
	}

	/* ================================================================
	 * Operations timeline: pan, zoom, hover, click, filters, search
	 * ================================================================ */
	var filt = { key: -1, proc: null, node: -1 };
	function drawTimeline() {
		var host = document.getElementById('timeline'), nl = Math.max(procs.length, 1);
		var laneH = Math.max(3, Math.min(18, Math.floor(560 / nl))), strip = kinds.length ? kinds.length * 8 + 4 : 0, top = 4 + strip;
		tl = canvas(host, nl * laneH + top + 26);
		tl.laneH = laneH;
		tl.top = top;
		tl.strip = strip;
		tl.axisY = top + nl * laneH + 2;
		paintTimeline();
		bindTimeline();
		var items = [TY_OK, TY_EXPECTED, TY_FAIL, TY_INFO, TY_PENDING].filter(function (t) { for (var j = 0; j < N; j++) if (ty[j] === t) return true; return false; })
			.map(function (t) { return [TYN[t], COL[t]]; });
		kinds.forEach(function (kd) { items.push(['fault: ' + kd + ' (shaded over the lanes, and in the strip on top)', kindColor[kd], 0.35]); });
		if (failTimes.length) items.push(['\u25bc failure (outlined op)', FAILC]);
		legend(document.getElementById('tl-legend'), items);
	}
	function visible(j) {
		return (filt.key < 0 || key[j] === filt.key) && (filt.proc === null || proc[j] === filt.proc) && (filt.node < 0 || nodeOf[j] === filt.node);
	}
	var filtering = false;
	function paintTimeline() {
		var cv = tl, ctx = cv.ctx, v0 = view.v0, v1 = view.v1, laneH = cv.laneH;
		ctx.clearRect(0, 0, cv.w, cv.h);
		timeAxis(cv, v0, v1, cv.top, cv.axisY);
		ctx.textAlign = 'right';
		ctx.textBaseline = 'middle';
		ctx.fillStyle = '#5c667a';
		var every = Math.ceil(12 / laneH);
		procs.forEach(function (p, n) { if (n % every === 0) ctx.fillText(fitText(ctx, (byWorker && p >= 0 ? 'worker ' + p : procName(p)), L - 8), L - 6, cv.top + n * laneH + laneH / 2); });
		ctx.save();
		ctx.beginPath(); ctx.rect(L, 0, cv.pw, cv.h); ctx.clip();
		var lo = lowerBound(t0, v0 - maxDur), hi = lowerBound(t0, v1 + 1), scale = cv.pw / (v1 - v0);
		/* One cell per lane and device pixel column holds the most telling
		 * outcome drawn there (error > info > ok > expected fail > never
		 * completed): cost is bounded by the canvas size however many ops
		 * share a pixel, and expected outcomes never paint a lane red. */
		var pad = laneH > 6 ? 1 : 0, drawn = 0, j, r = window.devicePixelRatio || 1;
		var W = cv.c.width, nl = procs.length, cells = new Uint8Array(nl * W);
		var PRIO = [3, 5, 4, 1, 2], OF = [TY_PENDING, TY_EXPECTED, TY_OK, TY_INFO, TY_FAIL], xl = Math.floor(L * r), xr = Math.ceil((L + cv.pw) * r);
		var sc = scale * r, base = L * r - v0 * sc;
		for (j = lo; j < hi; j++) {
			if (t1[j] < v0 || (filtering && !visible(j))) continue;
			var a = Math.max(xl, Math.floor(base + t0[j] * sc)), b = Math.min(xr, Math.max(a + 1, Math.round(base + t1[j] * sc)));
			var pr = PRIO[ty[j]], row = laneOf[j] * W;
			for (var x = a; x < b; x++) if (cells[row + x] < pr) cells[row + x] = pr;
			drawn++;
		}
		if (!nl) { /* no client ops at all */
			ctx.fillStyle = '#5c667a';
			ctx.textAlign = 'left';
			ctx.fillText('no client operations in the history', L + 8, cv.top + laneH / 2);
			ctx.restore();
			marks.timeline = 0;
			mark('timeline-bars', 0);
			return;
		}
		/* Every lane is one row of cells stretched to the lane's height:
		 * build an image one pixel high per lane and let drawImage scale it. */
		var img = ctx.createImageData(W, nl), d = img.data, byTy = [0, 0, 0, 0, 0], laneRed = new Int32Array(nl), laneExp = new Int32Array(nl);
		for (var ci = 0, i4 = 0; ci < cells.length; ci++, i4 += 4) {
			var c = cells[ci];
			if (!c) continue;
			var t = OF[c - 1], rgbc = COLRGB[t];
			byTy[t]++;
			if (t === TY_FAIL) laneRed[(ci / W) | 0]++;
			else if (t === TY_EXPECTED) laneExp[(ci / W) | 0]++;
			d[i4] = rgbc[0]; d[i4 + 1] = rgbc[1]; d[i4 + 2] = rgbc[2]; d[i4 + 3] = 255;
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
		/* Faults over the bars (a light wash) and as a strip on top. */
		shadeFaults(cv, v0, v1, cv.top, cv.axisY, 0.13);
		D.faults.forEach(function (f) {
			if (f.t1 < v0 || f.t0 > v1) return;
			var x0 = Math.max(L, xOf(cv, v0, v1, f.t0)), x1 = Math.min(L + cv.pw, xOf(cv, v0, v1, f.t1));
			ctx.fillStyle = kindColor[f.kind];
			ctx.fillRect(x0, 3 + kinds.indexOf(f.kind) * 8, Math.max(2, x1 - x0), 6);
		});
		/* Labels once bars are wide enough to hold them. */
		var labels = 0;
		if (laneH >= 10) {
			ctx.fillStyle = '#fff';
			ctx.textAlign = 'left';
			ctx.font = '11px system-ui, "DejaVu Sans", sans-serif';
			for (j = lo; j < hi && labels < 3000; j++) {
				if (t1[j] < v0 || (filtering && !visible(j))) continue;
				var bx = L + (t0[j] - v0) * scale, bw = (t1[j] - t0[j]) * scale;
				if (bw < 36) continue;
				var x0l = Math.max(bx, L) + 3, room = Math.min(bx + bw, L + cv.pw) - x0l - 2;
				var txt = fitText(ctx, S.f[fOf[j]] + ' ' + opValue(j), room);
				if (!txt) continue;
				ctx.fillStyle = ty[j] === TY_EXPECTED || ty[j] === TY_INFO ? '#1d2433' : '#fff';
				ctx.fillText(txt, x0l, cv.top + laneOf[j] * laneH + laneH / 2);
				labels++;
			}
		}
		ctx.lineWidth = 2;
		Object.keys(highlight).forEach(function (kk) {
			j = +kk;
			if (t1[j] < v0 || t0[j] > v1) return;
			ctx.strokeStyle = highlight[kk];
			ctx.strokeRect(L + (t0[j] - v0) * scale - 1, cv.top + laneOf[j] * laneH, Math.max(3, (t1[j] - t0[j]) * scale + 2), laneH);
		});
		ctx.lineWidth = 1;
		ctx.restore();
		failTicks(cv, v0, v1, cv.top, cv.axisY, 'timeline');
		probes.timeline = function (m) {
			return [cv.c, L + ((Math.max(t0[m], v0) + Math.min(t1[m], v1)) / 2 - v0) * scale, cv.top + laneOf[m] * laneH + laneH / 2];
		};
		marks.timeline = drawn;
		mark('timeline-bars', drawn);
		mark('timeline-labels', labels);
		mark('timeline-cells', byTy.join(','));
		/* per lane: its process (or worker), cells painted as errors, as expected fails */
		mark('timeline-lanes', procs.map(function (p, n) { return p + ':' + laneRed[n] + ':' + laneExp[n]; }).join(' '));
		mark('timeline-by-worker', byWorker ? D.concurrency : 0);
		mark('view', Math.round(v0) + ',' + Math.round(v1));
		var rd = document.getElementById('tl-range');
		if (rd) rd.textContent = 'showing ' + fmtT(v0) + ' \u2192 ' + fmtT(v1) + ', ' + drawn + ' ops' + (filtering ? ' (filtered)' : '');
		var vb = document.getElementById('view-text');
		if (vb) vb.textContent = v0 <= 0 && v1 >= END ? 'Charts show the whole run (' + fmtS(END) + '). Zoom in the operations timeline (wheel) and they follow.'
			: 'Charts show ' + fmtT(v0) + ' \u2192 ' + fmtT(v1) + ' (the operations timeline\u2019s zoom).';
	}
	var raf = 0;
	function repaint() { if (!raf) raf = requestAnimationFrame(function () { raf = 0; paintTimeline(); }); }
	function redrawCharts() { drawFaults(); drawLatency(); drawQuantiles(); drawRate(); }
	function setView(a, b, now) {
		var span = Math.max(b - a, 5);
		if (span > END) { a = 0; span = END; }
		a = Math.max(0, Math.min(a, END - span));
		view.v0 = a;
		view.v1 = a + span;
		if (now) { paintTimeline(); redrawCharts(); return; }
		repaint();
		clearTimeout(chartTimer);
		chartTimer = setTimeout(redrawCharts, 120);
	}
	function opAt(x, y) {
		var cv = tl, lane = Math.floor((y - cv.top) / cv.laneH);
		if (lane < 0 || lane >= procs.length || x < L) return -1;
		var t = view.v0 + (x - L) / cv.pw * (view.v1 - view.v0), tol = 3 / cv.pw * (view.v1 - view.v0);
		var ops = laneOps[lane], lo = 0, hi = ops.length;
		while (lo < hi) { var mid = (lo + hi) >> 1; if (t0[ops[mid]] <= t + tol) lo = mid + 1; else hi = mid; }
		for (var j = lo - 1; j >= 0 && j >= lo - 3; j--) if (t1[ops[j]] >= t - tol && (!filtering || visible(ops[j]))) return ops[j];
		return -1;
	}
	var drag = null;
	window.addEventListener('mouseup', function (ev) {
		if (drag && !drag.moved && ev.target === tl.c) {
			var b = tl.c.getBoundingClientRect(), fi = tickAt(tl, view.v0, view.v1, ev.clientX - b.left, ev.clientY - b.top, tl.axisY);
			if (fi >= 0) selectFailure(fi, true);
			else {
				var j = opAt(ev.clientX - b.left, ev.clientY - b.top);
				if (j >= 0) selectOp(j, false);
			}
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
			var b = c.getBoundingClientRect(), x = ev.clientX - b.left, y = ev.clientY - b.top;
			if (drag) {
				var dx = ev.clientX - drag.x;
				if (Math.abs(dx) > 2) drag.moved = true;
				var span = view.v1 - view.v0;
				setView(drag.v0 - dx / tl.pw * span, drag.v0 - dx / tl.pw * span + span);
				hideTip();
				return;
			}
			var fi = tickAt(tl, view.v0, view.v1, x, y, tl.axisY);
			if (fi >= 0) { showTip(ev, tickTip(fi)); return; }
			if (y < tl.strip + 2 && tl.strip) {
				var t = view.v0 + (x - L) / tl.pw * (view.v1 - view.v0), r = Math.floor((y - 3) / 8);
				var hit = D.faults.filter(function (f) { return kinds.indexOf(f.kind) === r && f.t0 <= t && t <= f.t1; });
				if (hit.length) { showTip(ev, hit.map(faultText).join('\n\n')); return; }
			}
			var j = opAt(x, y);
			if (j >= 0) showTip(ev, opText(j)); else hideTip();
		});
		c.addEventListener('mouseleave', hideTip);
		c.addEventListener('dblclick', function () { setView(0, END); });
	}
	function selectOp(j, zoom) {
		selected = j;
		var det = document.getElementById('op-detail');
		det.hidden = false;
		det.textContent = opText(j);
		mark('selected-op', idx[j]);
		Object.keys(highlight).forEach(function (h) { if (highlight[h] === '#1d2433') delete highlight[h]; });
		if (!(j in highlight)) highlight[j] = '#1d2433';
		if (zoom) {
			var pad = Math.max((t1[j] - t0[j]) * 4, 20000);
			setView(t0[j] - pad, (ty[j] === TY_PENDING ? t0[j] + 20000 : t1[j]) + pad, true);
		} else repaint();
	}
	function applyFilter() {
		filtering = filt.key >= 0 || filt.proc !== null || filt.node >= 0;
		var n = 0;
		if (filtering) for (var j = 0; j < N; j++) if (visible(j)) n++;
		mark('timeline-filtered', filtering ? n : N);
		var fs = document.getElementById('tl-filter-state');
		if (fs) fs.textContent = filtering ? n + ' of ' + N + ' ops match' : '';
		repaint();
	}
	function timelineTools() {
		var tools = document.getElementById('tl-tools');
		var reset = el('button', 'Reset zoom');
		reset.addEventListener('click', function () { setView(0, END); });
		tools.appendChild(reset);
		if (FAILS.length) {
			var cx = el('button', 'Zoom to the selected failure');
			cx.addEventListener('click', function () { if (selectedFail >= 0) zoomToOps(facts(FAILS[selectedFail]).ops); });
			tools.appendChild(cx);
		}
		/* filters: key (typed, with the history's keys offered), process,
		 * node; an op index (invoke or completion) to find */
		function labelled(text, input) { var l = el('label', text + ' '); l.appendChild(input); tools.appendChild(l); return input; }
		var kin = el('input');
		kin.id = 'f-key'; kin.size = 6; kin.placeholder = 'any';
		if (S.keys.length && S.keys.length <= 5000) {
			var dl = el('datalist'); dl.id = 'f-keys';
			S.keys.forEach(function (kk) { var o = el('option'); o.value = kk; dl.appendChild(o); });
			tools.appendChild(dl);
			kin.setAttribute('list', 'f-keys');
		}
		if (S.keys.length) labelled('key', kin);
		var pin = el('input');
		pin.id = 'f-proc'; pin.size = 5; pin.placeholder = 'any';
		labelled('process', pin);
		var nsel = el('select');
		nsel.id = 'f-node';
		nsel.appendChild(el('option', 'any'));
		nsel.firstChild.value = '';
		S.nodes.slice().sort(nodeSort).forEach(function (n) { var o = el('option', n); o.value = n; nsel.appendChild(o); });
		if (S.nodes.length) labelled('node', nsel);
		function readFilters() {
			filt.key = kin.value === '' ? -1 : S.keys.indexOf(kin.value);
			if (kin.value !== '' && filt.key < 0) filt.key = -2; /* no such key: nothing matches */
			var pv = pin.value.replace(/^p/, '');
			filt.proc = pv === '' || isNaN(+pv) ? null : +pv;
			filt.node = nsel.value === '' ? -1 : S.nodes.indexOf(nsel.value);
			applyFilter();
		}
		[kin, pin].forEach(function (e) { e.addEventListener('input', readFilters); });
		nsel.addEventListener('change', readFilters);
		tools.filters = { key: kin, proc: pin, node: nsel, read: readFilters };
		var oin = el('input');
		oin.id = 'f-op'; oin.size = 8; oin.placeholder = 'index';
		labelled('op #', oin);
		var go = el('button', 'Find');
		function find() {
			var n = +oin.value.replace(/^#/, ''), j = oin.value === '' || isNaN(n) ? -1 : findOpAny(n);
			var st = document.getElementById('tl-filter-state');
			if (j < 0) { if (st) st.textContent = 'no client op with index ' + oin.value; mark('find-result', -1); return; }
			mark('find-result', idx[j]);
			selectOp(j, true);
		}
		go.addEventListener('click', find);
		oin.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') find(); });
		tools.appendChild(go);
		var fs = el('span');
		fs.id = 'tl-filter-state';
		tools.appendChild(fs);
		var rd = el('span');
		rd.id = 'tl-range';
		tools.appendChild(rd);
		var det = el('pre');
		det.id = 'op-detail';
		det.hidden = true;
		document.getElementById('timeline').parentNode.appendChild(det);
		var vb = document.getElementById('view-bar');
		var vt = el('span');
		vt.id = 'view-text';
		vb.appendChild(vt);
		var r2 = el('button', 'Reset zoom');
		r2.addEventListener('click', function () { setView(0, END); });
		vb.appendChild(r2);
		return tools;
	}

	function drawResults() {
		var t = JSON.stringify(D.results, null, 2);
		if (t === undefined || D.results === null) t = 'results.json is missing: the run was not checked.';
		document.getElementById('results').textContent = t.length > 200000 ? t.slice(0, 200000) + '\n\u2026' : t;
	}

	/* Milliseconds per phase, as data-ms-phases (read by bench/report.sh). */
	var phases = [];
	function timed(name, fn) {
		var t = performance.now();
		fn();
		phases.push(name + '=' + Math.round(performance.now() - t));
	}
	function renderAll() {
		marks = {};
		timed('faults', drawFaults);
		timed('latency', drawLatency);
		timed('quantiles', drawQuantiles);
		timed('rate', drawRate);
		timed('timeline', drawTimeline);
		mark('ops', N);
		mark('fault-intervals', marks.faults || 0);
		mark('latency-points', marks.latency || 0);
		mark('quantile-buckets', marks.quantiles || 0);
		mark('rate-segments', marks.rate || 0);
		mark('overflow', document.documentElement.scrollWidth > window.innerWidth + 1 ? 1 : 0);
	}

	var tDecoded = performance.now();
	if (byWorker)
		document.getElementById('tl-sub').textContent = 'a lane per worker: process p, then p + ' + D.concurrency +
			' once an op of p ended info; wheel to zoom, drag to pan, double-click to reset, hover for the op, click to pin it';
	phases.push('decode=' + Math.round(tDecoded - tParsed));
	var tools = timelineTools();
	timed('results', drawResults);
	timed('failures', function () { collectFailTimes(); drawFailures(); });
	renderAll();
	mark('ms-phases', phases.join(' '));
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
		mark('ms-repaint', ((performance.now() - tz) / 20).toFixed(1));
		view.v0 = 0;
		view.v1 = END;
		paintTimeline();
	}
	/* #op=N (invoke or completion index), #failure=N, #key=K, #process=P,
	 * #node=N, #view=a,b (µs), combined with & */
	(function () {
		var h = location.hash.replace(/^#/, '');
		if (!h || h === 'bench-zoom') return;
		var q = {};
		h.split('&').forEach(function (p) { var e = p.indexOf('='); if (e > 0) q[p.slice(0, e)] = decodeURIComponent(p.slice(e + 1)); });
		var F = tools.filters;
		if ('key' in q) F.key.value = q.key;
		if ('process' in q) F.proc.value = q.process;
		if ('node' in q) F.node.value = q.node;
		if ('key' in q || 'process' in q || 'node' in q) F.read();
		if ('failure' in q && +q.failure >= 1) selectFailure(+q.failure - 1, false);
		if ('view' in q) { var v = q.view.split(','); setView(+v[0], +v[1], true); }
		if ('sort' in q && FAILS.length) { failSort = q.sort; sortFails(); drawFailTable(); mark('failure-order', failOrder.map(function (fi) { return fi + 1; }).join(',')); }
		if ('op' in q) {
			document.getElementById('f-op').value = q.op;
			var j = findOpAny(+q.op);
			mark('find-result', j >= 0 ? idx[j] : -1);
			if (j >= 0) {
				selectOp(j, true);
				document.getElementById('tl-tools').scrollIntoView();
			}
		}
		/* #probe=CHART:INDEX moves the mouse over op INDEX on a chart (latency
		 * or timeline), so a test can read the tooltip (data-probe-tip). */
		if ('probe' in q) {
			var pr = q.probe.split(':'), pj = findOpAny(+pr[1]), f = probes[pr[0]];
			if (pj >= 0 && f) {
				if (raf) { cancelAnimationFrame(raf); raf = 0; paintTimeline(); }
				var at = f(pj), rect = at[0].getBoundingClientRect();
				at[0].dispatchEvent(new MouseEvent('mousemove', { clientX: rect.left + at[1], clientY: rect.top + at[2], bubbles: true }));
				mark('probe-tip', tip.hidden ? '' : tip.textContent.replace(/\n/g, ' | '));
			}
		}
	})();
	var rt = 0, lastW = window.innerWidth;
	window.addEventListener('resize', function () {
		if (window.innerWidth === lastW) return;
		lastW = window.innerWidth;
		clearTimeout(rt);
		rt = setTimeout(function () {
			renderAll();
			if (selectedFail >= 0) selectFailure(selectedFail, false);
			if (selected >= 0) selectOp(selected, false);
		}, 150);
	});
	/* Where the load time goes (read by bench/report.sh). */
	mark('ms-before-script', Math.round(tStart));
	mark('ms-parse', Math.round(tParsed - tStart));
	mark('ms-render', Math.round(performance.now() - tParsed));
	mark('page-height', document.documentElement.scrollHeight);
	mark('rendered', 1);
})();
