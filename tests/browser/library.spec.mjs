// library.spec.mjs: satcheld's web library in headless Chromium, driven
// by playwright-core (no test runner: plain node, TAP on stdout). Run by
// tests/integration/browser.sh, which starts the daemon on a store with
// the three example bundles and passes, in the environment:
//   BASE_URL   http://127.0.0.1:PORT of satcheld's --http-listen
//   CHROMIUM   the browser (Debian's /usr/bin/chromium)
//   MODULES    the node_modules directory holding playwright-core
//   ARTIFACTS  where screenshots go (NAME-WIDTH.png, full page)
//   DOWNLOADS  where the downloaded lesson zip goes
// Every wait is bounded (the default timeouts below, and a watchdog for
// the whole run); a step that throws is a failed case, and the run goes
// on with the next step where that makes sense.
import { createRequire } from 'node:module';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const env = (k) => {
	const v = process.env[k];
	if (!v) {
		console.log(`Bail out! ${k} is not set`);
		process.exit(1);
	}
	return v;
};
const BASE = env('BASE_URL');
const CHROMIUM = env('CHROMIUM');
const MODULES = env('MODULES');
const ARTIFACTS = env('ARTIFACTS');
const DOWNLOADS = env('DOWNLOADS');

const require = createRequire(path.join(MODULES, 'index.js'));
const { chromium } = require(path.join(MODULES, 'playwright-core'));

const STEP_MS = 15000;		// one action or navigation
const WATCHDOG_MS = 200000;	// the whole run (browser.sh allows 240 s)

// --- TAP ---

let n = 0;
let failed = 0;
function diag(text) {
	for (const l of String(text).split('\n'))
		console.log(`# ${l}`);
}
function ok(cond, desc, why) {
	n++;
	if (!cond)
		failed++;
	console.log(`${cond ? 'ok' : 'not ok'} ${n} - ${desc.replace(/#/g, '_')}`);
	if (!cond && why !== undefined)
		diag(typeof why === 'string' ? why : JSON.stringify(why, null, 1));
	return cond;
}
function is(got, want, desc) {
	return ok(got === want, desc, `got: ${JSON.stringify(got)}\nexpected: ${JSON.stringify(want)}`);
}
// step DESC FN: runs FN; an exception is one failed case naming DESC.
async function step(desc, fn) {
	try {
		return await fn();
	} catch (e) {
		ok(false, `${desc}: ${String(e.message).split('\n')[0]}`);
		diag(String(e.stack || e).split('\n').slice(0, 8).join('\n'));
		return undefined;
	}
}

const watchdog = setTimeout(() => {
	console.log(`not ok ${++n} - the whole run finished within ${WATCHDOG_MS / 1000} s`);
	console.log(`1..${n}`);
	process.exit(1);
}, WATCHDOG_MS);

// --- checks run inside the page ---

// Everything the page must have for WCAG 2.1 AA that a script can see:
// lang on <html>, lang zh on (an ancestor of) all Chinese text, alt on
// every image, a label on every form control, no script at all (the
// pages work without JavaScript), and text contrast (4.5:1, 3:1 for large
// text) against the background found by walking up the ancestors.
function auditPage() {
	const out = { lang: document.documentElement.getAttribute('lang'),
	    scripts: document.scripts.length, noAlt: [], unlabelled: [],
	    hanNotZh: [], lowContrast: [], checkedText: 0, unknownBg: [] };
	for (const img of document.images)
		if (!img.hasAttribute('alt'))
			out.noAlt.push(img.outerHTML.slice(0, 120));
	for (const el of document.querySelectorAll('input, select, textarea, button')) {
		if (el.type === 'hidden')
			continue;
		const named = (el.labels && el.labels.length > 0 &&
		    [...el.labels].some((l) => l.textContent.trim() !== '')) ||
		    (el.getAttribute('aria-label') || '').trim() !== '' ||
		    el.hasAttribute('aria-labelledby') ||
		    (el.tagName === 'BUTTON' && el.textContent.trim() !== '');
		if (!named)
			out.unlabelled.push(el.outerHTML.slice(0, 120));
	}
	const han = /\p{Script=Han}/u;
	const walker = document.createTreeWalker(document.documentElement,
	    NodeFilter.SHOW_TEXT);
	const parse = (c) => {
		const m = c.match(/rgba?\(([^)]+)\)/);
		if (!m)
			return null;
		const p = m[1].split(/[ ,/]+/).filter((s) => s !== '').map(Number);
		return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
	};
	const over = (fg, bg) => ({ r: fg.r * fg.a + bg.r * (1 - fg.a),
	    g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a), a: 1 });
	const lum = (c) => {
		const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
		return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
	};
	// The colour behind el: its own and its ancestors' backgrounds,
	// composed from the nearest opaque one down; null under an image.
	const background = (el) => {
		const layers = [];
		for (let e = el; e !== null; e = e.parentElement) {
			const cs = getComputedStyle(e);
			if (cs.backgroundImage !== 'none')
				return null;
			const c = parse(cs.backgroundColor);
			if (c && c.a > 0) {
				layers.push(c);
				if (c.a >= 1)
					break;
			}
		}
		let bg = { r: 255, g: 255, b: 255, a: 1 };	// the canvas
		for (let i = layers.length - 1; i >= 0; i--)
			bg = over(layers[i], bg);
		return bg;
	};
	const seen = new Set();
	for (let t = walker.nextNode(); t !== null; t = walker.nextNode()) {
		const text = t.textContent.trim();
		const el = t.parentElement;
		if (text === '' || el === null || ['SCRIPT', 'STYLE'].includes(el.tagName))
			continue;
		if (han.test(text)) {
			const l = el.closest('[lang]');
			const lang = l ? l.getAttribute('lang') : '';
			if (!/^zh\b/i.test(lang))
				out.hanNotZh.push(`<${el.tagName.toLowerCase()}> "${text.slice(0, 40)}" (lang "${lang}")`);
		}
		if (seen.has(el) || el.closest('head, svg') !== null)
			continue;
		seen.add(el);
		const r = el.getBoundingClientRect();
		const cs = getComputedStyle(el);
		if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden')
			continue;
		// The skip link sits off screen until focused: checked then.
		if (r.right < 0 || r.bottom < 0)
			continue;
		const bg = background(el);
		if (bg === null) {
			out.unknownBg.push(el.tagName);
			continue;
		}
		const fg = over(parse(cs.color), bg);
		const l1 = lum(fg), l2 = lum(bg);
		const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
		const px = parseFloat(cs.fontSize);
		const large = px >= 24 || (px >= 18.66 && Number(cs.fontWeight) >= 700);
		out.checkedText++;
		if (ratio < (large ? 3 : 4.5))
			out.lowContrast.push(`<${el.tagName.toLowerCase()}${el.className ? '.' + el.className : ''}> "${text.slice(0, 30)}" ${cs.color} on rgb(${bg.r},${bg.g},${bg.b}): ${ratio.toFixed(2)}:1`);
	}
	return out;
}

// The elements that stick out past the right edge (for the diagnostics
// of a page wider than the screen).
function widest(limit) {
	const out = [];
	for (const el of document.body.querySelectorAll('*')) {
		const r = el.getBoundingClientRect();
		if (r.right > limit + 0.5)
			out.push(`<${el.tagName.toLowerCase()}${el.className ? '.' + el.className : ''}> right ${Math.round(r.right)}`);
	}
	return out.slice(0, 10);
}

// --- helpers ---

async function shot(page, name) {
	const file = path.join(ARTIFACTS, `${name}.png`);
	await page.screenshot({ path: file, fullPage: true, timeout: STEP_MS });
	const st = statSync(file);
	ok(st.size > 1000, `screenshot ${name}.png saved (${st.size} bytes)`);
}

async function audit(page, what) {
	const a = await page.evaluate(auditPage);
	ok(a.lang !== null && /^(zh|en)$/.test(a.lang), `${what}: <html lang> is set ("${a.lang}")`);
	is(a.noAlt.length, 0, `${what}: every <img> has alt text`) || diag(a.noAlt.join('\n'));
	is(a.unlabelled.length, 0, `${what}: every form control has a label`) || diag(a.unlabelled.join('\n'));
	is(a.hanNotZh.length, 0, `${what}: all Chinese text is inside lang="zh"`) || diag(a.hanNotZh.slice(0, 15).join('\n'));
	ok(a.checkedText > 5 && a.lowContrast.length === 0,
	    `${what}: text contrast meets WCAG AA (${a.checkedText} elements)`,
	    a.lowContrast.slice(0, 15).join('\n'));
	if (a.unknownBg.length > 0)
		diag(`${what}: contrast not computed over background images: ${a.unknownBg.join(' ')}`);
	return a;
}

// Short labels (one word: a term, a label, a button) and sizes ("23.1
// kB") that the layout breaks across lines, as a squeezed flex item does
// at 360 px.
function brokenWords() {
	const out = [];
	for (const el of document.querySelectorAll('dt, label, button, .button, .langs a, th, .size')) {
		const text = el.textContent.trim();
		if (text === '' || (!el.matches('.size') && (/[ \t\n]/.test(text) || text.length > 20)))
			continue;
		const r = document.createRange();
		r.selectNodeContents(el);
		const lines = new Set([...r.getClientRects()].map((q) => Math.round(q.top)));
		if (lines.size > 1)
			out.push(`<${el.tagName.toLowerCase()}> "${text}" on ${lines.size} lines`);
	}
	return out;
}

async function fitsWidth(page, what, width) {
	const sw = await page.evaluate(() => document.documentElement.scrollWidth);
	if (!ok(sw <= width, `${what}: nothing wider than ${width} px (scrollWidth ${sw})`))
		diag((await page.evaluate(widest, width)).join('\n'));
	const broken = await page.evaluate(brokenWords);
	ok(broken.length === 0, `${what}: no one-word label is broken across lines at ${width} px`,
	    broken.join('\n'));
}

async function goto(page, url) {
	const r = await page.goto(url, { waitUntil: 'load', timeout: STEP_MS });
	if (r === null)
		throw new Error(`no response for ${url}`);
	return r;
}

// The state of whatever has the keyboard focus.
function focused() {
	const el = document.activeElement;
	const cs = getComputedStyle(el);
	const r = el.getBoundingClientRect();
	return { tag: el.tagName.toLowerCase(), id: el.id, cls: el.className,
	    text: el.textContent.trim().slice(0, 40),
	    outline: cs.outlineStyle !== 'none' ? parseFloat(cs.outlineWidth) : 0,
	    onScreen: r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0 &&
		r.right <= window.innerWidth };
}

// --- the run ---

const browser = await chromium.launch({ executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage'], timeout: 60000 });
const lessonUrl = {};	// what the 1280 px run found, for the 360 px run

try {
	// 1. The library in English (Accept-Language from the locale).
	const en = await browser.newContext({ locale: 'en-US',
	    viewport: { width: 1280, height: 900 } });
	en.setDefaultTimeout(STEP_MS);
	let page = await en.newPage();
	await step('the library in English', async () => {
		const r = await goto(page, `${BASE}/`);
		is(r.status(), 200, 'GET / in English: 200');
		is(await page.getAttribute('html', 'lang'), 'en', 'Accept-Language en: <html lang="en">');
		const titles = await page.locator('ul.cards > li.card h2 a').allTextContents();
		is(titles.length, 3, 'the library shows a card for each of the 3 bundles');
		ok(titles.includes('Family Health Care at Home'),
		    'the cards carry the English titles', titles);
		await shot(page, 'library-en-1280');
	});
	await step('the language switch', async () => {
		await Promise.all([page.waitForURL(/hl=zh/),
		    page.getByRole('link', { name: '中文' }).click()]);
		is(await page.getAttribute('html', 'lang'), 'zh', 'the switch "中文" gives <html lang="zh">');
		ok((await page.locator('ul.cards h2').allTextContents()).includes('家庭健康护理'),
		    'after the switch the cards carry the Chinese titles');
	});
	await step('a Chinese search on the English page', async () => {
		await goto(page, `${BASE}/?hl=en&q=${encodeURIComponent('永字')}`);
		const titles = await page.locator('ul.cards h2 a').allTextContents();
		is(JSON.stringify(titles), JSON.stringify(['Brush Calligraphy Basics']),
		    'on the English page, 永字 finds Brush Calligraphy Basics');
		const zh = await page.locator('p.status [lang=zh]').textContent();
		is(zh, '永字', 'the echoed Chinese words are marked lang="zh"');
		await audit(page, 'search results (en, Chinese words)');
	});
	await en.close();

	// 2. The library in Chinese, used with the keyboard.
	const zh = await browser.newContext({ locale: 'zh-CN',
	    viewport: { width: 1280, height: 900 } });
	zh.setDefaultTimeout(STEP_MS);
	page = await zh.newPage();
	await step('the library in Chinese', async () => {
		const r = await goto(page, `${BASE}/`);
		is(r.status(), 200, 'GET / in Chinese: 200');
		is(await page.getAttribute('html', 'lang'), 'zh', 'Accept-Language zh-CN: <html lang="zh">');
		const titles = await page.locator('ul.cards > li.card h2 a').allTextContents();
		is(titles.length, 3, 'the Chinese library shows 3 cards');
		ok(titles.includes('家庭健康护理') && titles.includes('毛笔书法入门'),
		    'the cards carry the Chinese titles', titles);
		const facts = await page.locator('li.card').first().locator('dl.facts').textContent();
		ok(/课程\s*3/.test(facts) && /大小/.test(facts), 'a card shows its lesson count and size', facts);
		await shot(page, 'library-zh-1280');
		await audit(page, '/ (zh)');
	});
	await step('keyboard: skip link and search box', async () => {
		await page.keyboard.press('Tab');
		let f = await page.evaluate(focused);
		ok(f.tag === 'a' && /skip/.test(f.cls), 'the first Tab reaches the skip link', f);
		ok(f.onScreen, 'the focused skip link is on screen', f);
		ok(f.outline >= 2, 'the focused skip link shows a focus outline', f);
		// Enter follows the skip link; the next Tab is inside <main>.
		await page.keyboard.press('Enter');
		await page.waitForURL(/#main$/);
		await page.keyboard.press('Tab');
		f = await page.evaluate(focused);
		const inMain = await page.evaluate(() => document.activeElement.closest('main') !== null);
		ok(inMain, 'after the skip link, Tab goes on inside <main>', f);
		let tabs = 0;
		while (f.id !== 'q' && tabs < 20) {
			await page.keyboard.press('Tab');
			f = await page.evaluate(focused);
			tabs++;
		}
		ok(f.id === 'q', `Tab reaches the search box (${tabs} more presses)`, f);
		ok(f.outline >= 2, 'the focused search box shows a focus outline', f);
		// Chinese goes in as text (an input method's commit).
		await page.keyboard.type('洗手');
		await Promise.all([page.waitForURL(/[?&]q=/), page.keyboard.press('Enter')]);
		const url = new URL(page.url());
		is(url.searchParams.get('q'), '洗手', 'Enter submits the search: /?q=洗手');
	});
	await step('the Chinese search results', async () => {
		const status = await page.locator('p.status').textContent();
		ok(/洗手/.test(status) && /:\s*1\s*$/.test(status), 'the results say "洗手" found 1 bundle', status);
		const titles = await page.locator('ul.cards h2 a').allTextContents();
		is(JSON.stringify(titles), JSON.stringify(['家庭健康护理']), 'the one card is 家庭健康护理');
		const hits = await page.locator('ul.hits a').allTextContents();
		ok(hits.includes('正确洗手，预防疾病'), 'the matching lesson 正确洗手，预防疾病 is listed', hits);
		is(await page.inputValue('#q'), '洗手', 'the search box keeps the words');
		await shot(page, 'search-zh-1280');
		await audit(page, 'search results (zh)');
	});
	await step('the language switch on the results', async () => {
		const back = page.url();
		await Promise.all([page.waitForURL(/hl=en/),
		    page.getByRole('link', { name: 'English', exact: true }).click()]);
		const url = new URL(page.url());
		is(url.searchParams.get('q'), '洗手', 'the switch to English keeps the search');
		is(await page.getAttribute('html', 'lang'), 'en', 'and gives the English page');
		is(JSON.stringify(await page.locator('ul.cards h2 a').allTextContents()),
		    JSON.stringify(['Family Health Care at Home']), 'with the same result, in English');
		await goto(page, back);
	});
	await step('the bundle page', async () => {
		await Promise.all([page.waitForURL(/\/bundle\/family-health-care/),
		    page.locator('ul.cards h2 a', { hasText: '家庭健康护理' }).click()]);
		is(await page.locator('h1').textContent(), '家庭健康护理', 'the bundle page\'s heading');
		const lessons = await page.locator('ol.lessons > li.lesson h3 a').allTextContents();
		is(lessons.length, 3, 'the bundle page lists its 3 lessons');
		ok(lessons[0] === '正确洗手，预防疾病', 'lessons in order, the first 正确洗手，预防疾病', lessons);
		ok(await page.locator('a[href$=".satchel"]').count() === 1,
		    'a "download the whole bundle" link');
		lessonUrl.bundle = page.url();
		await shot(page, 'bundle-zh-1280');
		await audit(page, 'bundle page (zh)');
	});
	await step('a lesson', async () => {
		await Promise.all([page.waitForURL(/\/b\/family-health-care@\d+\/lessons\/01-handwashing\//),
		    page.locator('ol.lessons h3 a').first().click()]);
		lessonUrl.lesson = page.url();
		await page.waitForFunction(() => [...document.images].every((i) => i.complete),
		    null, { timeout: STEP_MS });
		const imgs = await page.evaluate(() => [...document.images].map((i) =>
		    ({ src: i.getAttribute('src'), w: i.naturalWidth })));
		ok(imgs.length >= 1 && imgs.every((i) => i.w > 0),
		    `the lesson's ${imgs.length} images loaded (naturalWidth > 0)`, imgs);
		const css = await page.evaluate(() => ({
		    sheets: [...document.styleSheets].map((s) => s.href + ' ' + s.cssRules.length),
		    h1: getComputedStyle(document.querySelector('h1')).color,
		    bg: getComputedStyle(document.body).backgroundColor }));
		ok(css.h1 === 'rgb(29, 94, 58)' && css.bg === 'rgb(255, 254, 251)',
		    'the bundle\'s ../../style.css is applied (heading and page colours)', css);
		await shot(page, 'lesson-zh-1280');
		await audit(page, 'lesson page');
		// Its "next" link is relative inside the bundle too.
		await Promise.all([page.waitForURL(/02-blood-pressure\/index\.html$/),
		    page.locator('a[rel=next]').click()]);
		ok(await page.evaluate(() => [...document.images].length > 0 &&
		    [...document.images].every((i) => i.complete && i.naturalWidth > 0)),
		    'the lesson\'s relative "next" link opens lesson 2 with its image');
	});
	await step('a lesson with a PNG', async () => {
		await goto(page, `${BASE}/bundle/calligraphy-basics`);
		await Promise.all([page.waitForURL(/03-eight-strokes/),
		    page.locator('ol.lessons h3 a').nth(2).click()]);
		await page.waitForFunction(() => [...document.images].every((i) => i.complete),
		    null, { timeout: STEP_MS });
		const imgs = await page.evaluate(() => [...document.images].map((i) =>
		    ({ src: i.getAttribute('src'), w: i.naturalWidth })));
		ok(imgs.some((i) => /\.png$/.test(i.src)) && imgs.every((i) => i.w > 0),
		    'calligraphy lesson 3: its PNG and SVG images loaded', imgs);
	});
	await step('download this lesson', async () => {
		await goto(page, lessonUrl.bundle);
		const link = page.locator('li.lesson', { hasText: '正确洗手' })
		    .getByRole('link', { name: /下载本课/ });
		const [dl] = await Promise.all([page.waitForEvent('download', { timeout: STEP_MS }),
		    link.click()]);
		ok(/\/download\/family-health-care@\d+\/01-handwashing\.zip$/.test(dl.url()),
		    'the link is /download/family-health-care@SERIAL/01-handwashing.zip', dl.url());
		const file = path.join(DOWNLOADS, 'family-health-care-01-handwashing.zip');
		await dl.saveAs(file);
		is(await dl.failure(), null, 'the download completed');
		ok(/\.zip$/.test(dl.suggestedFilename()), `its suggested name ends in .zip (${dl.suggestedFilename()})`);
		const b = readFileSync(file);
		ok(b.length > 1000 && b.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1')),
		    `the download is a zip (PK header, ${b.length} bytes)`);
	});
	await zh.close();

	// 3. A 360 px phone, in Chinese.
	const phone = await browser.newContext({ locale: 'zh-CN',
	    viewport: { width: 360, height: 740 }, deviceScaleFactor: 1,
	    isMobile: true, hasTouch: true });
	phone.setDefaultTimeout(STEP_MS);
	page = await phone.newPage();
	const pages = [['library', `${BASE}/`], ['search', `${BASE}/?q=${encodeURIComponent('洗手')}`],
	    ['bundle', lessonUrl.bundle], ['lesson', lessonUrl.lesson]];
	for (const [name, url] of pages) {
		await step(`${name} at 360 px`, async () => {
			if (url === undefined)
				throw new Error('no URL (an earlier step failed)');
			is((await goto(page, url)).status(), 200, `${name} at 360 px: 200`);
			await fitsWidth(page, name, 360);
			await shot(page, `${name}-zh-360`);
		});
	}
	await step('the English library at 360 px', async () => {
		await goto(page, `${BASE}/?hl=en`);
		await fitsWidth(page, 'library (en)', 360);
		await audit(page, '/ (en)');
		await shot(page, 'library-en-360');
	});
	await step('an English bundle page at 360 px', async () => {
		await goto(page, `${BASE}/bundle/calligraphy-basics?hl=en`);
		await fitsWidth(page, 'bundle (en)', 360);
		await audit(page, 'bundle page (en)');
		await shot(page, 'bundle-en-360');
	});
	await phone.close();

	// 4. Without JavaScript: the search is a plain GET form.
	const nojs = await browser.newContext({ locale: 'en-US',
	    javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
	nojs.setDefaultTimeout(STEP_MS);
	page = await nojs.newPage();
	await step('without JavaScript', async () => {
		await goto(page, `${BASE}/`);
		is(await page.locator('script').count(), 0, 'the library has no script at all');
		await page.locator('#q').fill('BLOOD pressure');
		await Promise.all([page.waitForURL(/[?&]q=/),
		    page.getByRole('button', { name: 'Search' }).click()]);
		const titles = await page.locator('ul.cards h2 a').allTextContents();
		is(JSON.stringify(titles), JSON.stringify(['Family Health Care at Home']),
		    'without JavaScript, "BLOOD pressure" finds Family Health Care (case-insensitive)');
		const hits = await page.locator('ul.hits a').allTextContents();
		ok(hits.some((h) => /blood pressure/i.test(h)), 'and names the blood-pressure lesson', hits);
		await page.selectOption('#subject', 'calligraphy');
		await page.locator('#q').fill('');
		await Promise.all([page.waitForURL(/subject=calligraphy/),
		    page.locator('#q').press('Enter')]);
		const t2 = await page.locator('ul.cards h2 a').allTextContents();
		is(JSON.stringify(t2), JSON.stringify(['Brush Calligraphy Basics']),
		    'without JavaScript, the subject filter shows only calligraphy');
	});
	await nojs.close();
} catch (e) {
	ok(false, `the browser run: ${String(e.message).split('\n')[0]}`);
	diag(String(e.stack || e));
} finally {
	await browser.close();
	clearTimeout(watchdog);
}
console.log(`1..${n}`);
// Failed cases are counted by whoever reads the TAP; 0 says the run got
// to its end.
process.exit(0);
