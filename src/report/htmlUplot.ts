import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { VanaLoadError } from '../errors.ts';
import { HTML_CLIENT_SCRIPT } from './htmlClientScript.ts';

export interface UplotAssets {
  /** uPlot's browser build, wrapped to load whatever the reader's locale (see `readUplotAssets`). */
  script: string;
  css: string;
  version: string;
}

/**
 * The locale uPlot formats its default axis and legend numbers with. The page script formats every
 * value itself (htmlClientScript.ts, locale-free like htmlFormat.ts), so this only has to be a valid
 * tag; English matches the page's `lang="en"`.
 */
export const UPLOT_LOCALE = 'en-US';

/**
 * uPlot's browser build and stylesheet, read from node_modules so the report carries them.
 *
 * uPlot builds `new Intl.NumberFormat(navigator.language)` while it loads, and a browser under a
 * POSIX locale (`LANG=C.UTF-8`, as on most CI machines and containers) reports `en-US@posix`, which
 * Intl refuses: uPlot then never defines itself and no chart draws. So the build runs in a scope
 * where `navigator` is the reader's navigator with `language` fixed to {@link UPLOT_LOCALE}; the
 * global `navigator` and the file in node_modules stay as they are.
 *
 * @example
 * const uplot = readUplotAssets();
 * const head = `<style>${uplot.css}</style>`;
 * const tail = `<script>${uplot.script}</script>`;
 */
export function readUplotAssets(): UplotAssets {
  const require = createRequire(import.meta.url);
  const read = (file: string): string => readFileSync(require.resolve(`uplot/${file}`), 'utf8');
  const build = read('dist/uPlot.iife.min.js');
  const { version } = JSON.parse(read('package.json')) as { version: string };
  for (const [name, text] of [['uPlot', build], ['page script', HTML_CLIENT_SCRIPT]] as const) {
    // Either sequence would end or derail the inline <script> element early.
    if (/<\/script|<!--/i.test(text)) {
      throw new VanaLoadError(`Cannot inline the ${name} into the HTML report: it contains "</script" or "<!--"`, {
        code: 'REPORT_INLINE_UNSAFE',
      });
    }
  }
  // The build declares `var uPlot`; inside the function that is a local, handed out by `return`.
  // Reflect.get with the real navigator as receiver keeps its getters and methods working.
  const script = `var uPlot = (function (navigator) {
${build}
return uPlot;
})(new Proxy(window.navigator, {
  get: function (target, key) {
    if (key === 'language') return ${JSON.stringify(UPLOT_LOCALE)};
    var value = Reflect.get(target, key);
    return typeof value === 'function' ? value.bind(target) : value;
  },
}));`;
  return { script, css: read('dist/uPlot.min.css'), version };
}
