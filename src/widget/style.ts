const DARK = '--b:#14171a;--f:#eef0f2;--u:#5fd38a;--d:#ff7b7b;--m:#a4abb3'

/**
 * Every colour and the font come from `--fx-*` custom properties the host page can set on the element;
 * the private `--b`/`--f`/... are only the theme defaults behind them. The theme follows the reader's
 * colour scheme unless `theme` is `light` or `dark`. The bar is 2.5em of the host's font in every layout,
 * the height an embedding page reserves before the script runs.
 */
export const CSS = ':host{display:block;min-height:2.5em;--b:#fff;--f:#16191d;--u:#0a7a35;--d:#c0262d;--m:#5f6670}' +
  `:host([theme=dark]),:host([data-theme=dark]){${DARK}}` +
  `@media (prefers-color-scheme:dark){:host(:not([theme=light],[data-theme=light])){${DARK}}}` +
  '.w{display:flex;align-items:center;gap:.5em;height:2.5em;box-sizing:border-box;padding:0 .5em;overflow:hidden;background:var(--fx-bg,var(--b));color:var(--fx-fg,var(--f));font-family:var(--fx-font,system-ui,sans-serif);font-size:var(--fx-size,1em);line-height:1.5;border:var(--fx-border,0)}' +
  '.v{flex:1;overflow:hidden;-webkit-mask:linear-gradient(90deg,#0000,#000 1em calc(100% - 1em),#0000)}' +
  '.t{display:flex;width:max-content;animation:fx-m 40s linear infinite}' +
  '@keyframes fx-m{to{transform:translate(-50%)}}' +
  '.v:hover .t,.v:focus-within .t,.h .t{animation-play-state:paused}' +
  '.c,.c>span{display:flex;white-space:nowrap}' +
  '.i{padding-right:1.75em;color:inherit;text-decoration:none;font-variant-numeric:tabular-nums}' +
  '.i:before{content:"•";margin-right:.5em;color:var(--fx-muted,var(--m))}' +
  'a.i:hover b,a.i:focus-visible b{text-decoration:underline}' +
  '.k .v{font-size:.8em}.k .i{padding-right:1em}.k .i:before,.k .e,.k .q,.k .i [aria-hidden]{display:none}' +
  '.u{color:var(--fx-up,var(--u))}.d{color:var(--fx-down,var(--d))}.n{color:var(--fx-muted,var(--m))}' +
  '.g,.s{font-size:.75em;border:1px solid;border-radius:.3em;padding:0 .35em;margin-left:.2em;vertical-align:.1em;color:var(--fx-muted,var(--m))}' +
  '.s:empty{display:none}.o .c{opacity:.6}' +
  '.tip{position:fixed;z-index:9999;padding:0 .5em;border-radius:.3em;background:var(--fx-fg,var(--f));color:var(--fx-bg,var(--b));font-size:.8em}' +
  '.p{flex:none;display:grid;place-items:center;width:1.8em;height:1.8em;padding:0;border:1px solid;border-radius:50%;background:none;color:inherit;cursor:pointer;opacity:.75}' +
  '.p:hover,.p:focus-visible{opacity:1}' +
  '.p:before{content:"";box-sizing:border-box;width:.6em;height:.7em;border:solid;border-width:0 .2em}' +
  '.h .p:before{width:0;height:0;border-width:.4em 0 .4em .65em;border-color:transparent currentColor;margin-left:.15em}' +
  '@media (prefers-reduced-motion:reduce){.t{animation:none}.c+.c,.c>[aria-hidden],.p{display:none}.v{overflow-x:auto;scrollbar-width:thin}}'
