const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** The demo page: the widget as another site embeds it, and a 90-day chart per currency (charts.js). */
export function demoPage (): string {
  const script = '<script src="/widget.js" async></script>'
  // what another site pastes: the service's public address, which only its operator knows
  const snippet = '<script src="https://fx.example.com/widget.js" async></script>'
  const element = '<fx-ticker symbols="KGS,KZT,TJS,UZS,TMT"></fx-ticker>'
  const dark = '<fx-ticker theme="dark" direction="USD/BASE" locale="de-DE" spark></fx-ticker>'
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fx-ticker: Central Asian exchange rates against the US dollar</title>
<style>
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2125;background:#f6f7f9}
main{max-width:52rem;margin:0 auto;padding:2rem 1.25rem 3rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.1rem;margin:2rem 0 .5rem}
p{margin:.5rem 0}
fx-ticker,[data-fx-ticker]{display:block;min-height:2.5em;margin:1rem 0;border:1px solid #d9dde3;border-radius:6px;overflow:hidden}
pre{background:#fff;border:1px solid #d9dde3;border-radius:6px;padding:.75rem 1rem;overflow-x:auto;font-size:.85rem}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}p code{white-space:nowrap}
ul{padding-left:1.25rem}a{color:#0b57b0}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(22rem,1fr));gap:1rem}
.chart{margin:0;background:#fff;border:1px solid #d9dde3;border-radius:6px;padding:.5rem .75rem}
.chart h3{font-size:.95rem;margin:0 0 .25rem}.chart svg{width:100%;height:auto;overflow:visible}
.chart polyline{fill:none;stroke:#0b57b0;stroke-width:1.5}.chart .ax{stroke:#9aa3ad}
.chart text{font-size:22px;fill:#4b535c}.of{fill:#0b57b0}.co{fill:#fff;stroke:#c05a00;stroke-width:1.5}
.legend{font-size:.9rem;color:#4b535c}.legend i{display:inline-block;width:.6em;height:.6em;border-radius:50%;margin:0 .3em 0 .8em;vertical-align:.05em}
.legend .of{background:#0b57b0}.legend .co{border:2px solid #c05a00;background:#fff;box-sizing:border-box}
</style>
</head>
<body>
<main>
<h1>fx-ticker</h1>
<p>Official exchange rates of the Kyrgyz som (KGS), Kazakhstani tenge (KZT), Tajikistani somoni (TJS), Uzbek sum (UZS) and Turkmen manat (TMT) against the US dollar, taken from the central banks, cross-checked against other public sources, and pushed live over WebSocket, Server-Sent Events and REST.</p>
${script}
${element}
${dark}
<h2>The last 90 days</h2>
<p class="legend">Units of each currency per US dollar, as the central banks publish them:<i class="of"></i>the home bank's official fixing<i class="co"></i>consensus of the other sources</p>
<div class="charts" data-fx-charts data-symbols="KGS,KZT,TJS,UZS,TMT" aria-busy="true"></div>
<script src="/charts.js" defer></script>
<h2>Embed it on your site</h2>
<p>Two lines, no dependencies, no cookies, no tracking; it talks only to this service (put its address in place of <code>fx.example.com</code>):</p>
<pre><code>${esc(snippet)}
${esc(element)}</code></pre>
<p>Attributes: <code>symbols</code>, <code>locale</code>, <code>theme</code> (<code>light</code>, <code>dark</code>, <code>auto</code>), <code>direction</code> (<code>BASE/USD</code> or <code>USD/BASE</code>), <code>speed</code> (pixels per second), <code>href</code> (a link for each pair; <code>{base}</code> is replaced), <code>src</code> (another service origin), <code>spark</code> (a sparkline of the last 30 fixings per pair). Where a CMS strips unknown elements, use <code>&lt;div data-fx-ticker data-symbols="KZT,UZS"&gt;&lt;/div&gt;</code>. Colours and font follow the custom properties <code>--fx-bg</code>, <code>--fx-fg</code>, <code>--fx-up</code>, <code>--fx-down</code>, <code>--fx-muted</code>, <code>--fx-font</code>.</p>
<h2>API</h2>
<ul>
<li><a href="/v1/rates">/v1/rates</a>: the current snapshot (JSON, ETag)</li>
<li><a href="/v1/history?symbols=KGS,KZT,TJS,UZS,TMT&amp;days=90">/v1/history</a>: the daily fixings (JSON or CSV)</li>
<li><a href="/openapi.json">/openapi.json</a>: the REST API</li>
<li><a href="/asyncapi.json">/asyncapi.json</a>: the WebSocket (<code>/v1/ws</code>) and SSE (<code>/v1/stream</code>) protocol</li>
</ul>
</main>
</body>
</html>
`
}
