/**
 * The home page of `npm start`: one card per demo with its title, its "what you are seeing"
 * paragraph, a link to it and a link to its source, and a line for each demo not present.
 * Must not: read files or know what a demo does (its Demo object says).
 */
import type { Demo } from './shared/demo.js';

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function renderHomePage(demos: readonly Demo[], missing: readonly string[], shared: boolean): string {
  const cards = demos
    .map(
      (demo) => `<li class="demo" data-demo="${escape(demo.name)}">
  <h2><a href="/${escape(demo.name)}/">${escape(demo.title)}</a></h2>
  <p>${escape(demo.summary)}</p>
  <p class="links"><a class="open" href="/${escape(demo.name)}/">Open ${escape(demo.title)}</a> · <a class="source" href="/source/${escape(demo.name)}/">source: apps/${escape(demo.name)}/</a></p>
</li>`,
    )
    .join('\n');
  const absent = missing.map((name) => `<li class="absent" data-demo="${escape(name)}">${escape(name)}: not in this build</li>`).join('\n');
  const mode = shared ? 'Processes started with the same <code>--redis</code> URL form one app.' : 'One process, state in memory and in its data folder.';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>fullduplex demos</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
  main { max-width: 860px; margin: 0 auto; padding: 24px 16px; }
  h1 { margin: 0 0 4px; } .lead { color: #4a5468; margin-top: 0; }
  ul { list-style: none; padding: 0; display: grid; gap: 14px; }
  .demo { background: #fff; border-radius: 10px; padding: 14px 18px; box-shadow: 0 1px 3px #0002; }
  .demo h2 { margin: 0 0 6px; font-size: 1.2em; } .demo p { margin: 6px 0; }
  .links { font-size: .9em; } a { color: #2456c8; } .absent { color: #7a8294; }
</style>
</head>
<body>
<main>
<h1>fullduplex demos</h1>
<p class="lead">Five uses of WebSockets, each built on fullduplex's real-time layer. Open any of them in two tabs. ${mode}</p>
<ul id="demos">
${cards}
${absent}
</ul>
</main>
</body>
</html>
`;
}
