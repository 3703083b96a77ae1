// Stylesheet of the blocks page (served as static/blocks.css): the query UI's base, then its own.
import { BASE_CSS } from "../style.ts";

export const BLOCKS_CSS = BASE_CSS + `
.refreshed{margin-left:auto;color:#c9d1e0;font-size:12px}
main{padding:16px;display:flex;gap:16px;align-items:flex-start}
section{flex:1;min-width:0;background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px 16px}
.toolbar{display:flex;flex-wrap:wrap;align-items:center;gap:16px}
.toolbar input,.toolbar select{font:inherit;padding:2px 6px;border:1px solid #c4cad4;border-radius:4px}
.hint{color:#5b6475;font-size:12px}
.summary{color:#5b6475;font-size:12px;margin-top:8px;min-height:1em}
.error{margin-top:8px;padding:8px 12px;background:#fdecec;border:1px solid #f3b5b5;color:#8a1c1c;border-radius:4px;white-space:pre-wrap;word-break:break-word}
.legend{display:flex;flex-wrap:wrap;gap:12px;margin:8px 0;font-size:12px;color:#5b6475}
.legend span{display:inline-flex;align-items:center;gap:4px}
.swatch{display:inline-block;width:18px;height:10px;border-radius:2px}
.mono{font-family:ui-monospace,Menlo,Consolas,monospace}
.timeline{position:relative;margin-top:8px;user-select:none}
.axis{position:relative;height:22px;margin-left:var(--label-w);border-bottom:1px solid #c4cad4;font-size:11px;color:#5b6475}
.tick{position:absolute;top:0;bottom:0;border-left:1px solid #c4cad4;padding-left:3px;white-space:nowrap}
.stream{margin-top:10px;border:1px solid #e3e6ec;border-radius:4px}
.stream-head{display:flex;flex-wrap:wrap;gap:8px;align-items:baseline;padding:4px 8px;background:#f1f3f7;font-size:13px}
.stream-title{font-weight:600;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px;word-break:break-all}
.badge{display:inline-block;white-space:nowrap;padding:0 6px;border-radius:3px;background:#eef1f6;font-size:12px}
.badge.backlog{background:#fff3cd;color:#6b5200}
.badge.problem{background:#fdecec;color:#8a1c1c}
.row{display:flex;align-items:center;height:22px}
.row-label{flex:none;width:var(--label-w);padding:0 8px;font-size:11px;color:#5b6475;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.track{position:relative;flex:1;height:18px;background:#fafbfc}
.row.coverage{height:12px}
.row.coverage .track{height:8px;background:none}
.track .cover{position:absolute;top:0;height:100%;background:#9fb3c8;border-radius:1px}
.track .gap{position:absolute;top:-2px;height:12px;background:repeating-linear-gradient(45deg,#e5484d 0 3px,#fde2e2 3px 6px);border-radius:1px;min-width:2px}
.track .overlap{position:absolute;top:-2px;height:12px;background:#f76808;opacity:.85;min-width:2px}
.block{position:absolute;top:1px;height:16px;min-width:2px;padding:0;border:0;border-right:1px solid #fff;border-radius:2px;cursor:pointer}
.block:hover{filter:brightness(1.15)}
.block.selected{outline:2px solid #1d2330;outline-offset:1px;z-index:2}
.block.search-hit{outline:2px dashed #2f6fde;outline-offset:1px}
.level-1{background:#7aa2d6}.level-2{background:#3f7fc4}.level-3{background:#2a5c9a}.level-4{background:#163a68}
.block.level-5,.block.level-6{background:#0b2240}
.res-300000{background:#4fa37a}.res-3600000{background:#2c7a57}
.block.res-300000.level-1,.block.res-300000.level-2{background:#74c69d}.block.res-300000.level-3{background:#4fa37a}.block.res-300000.level-4{background:#2d6a4f}
.block.res-3600000{background:#1b4332}
.swatch.gap{background:repeating-linear-gradient(45deg,#e5484d 0 3px,#fde2e2 3px 6px)}
.swatch.overlap{background:#f76808}
.block.overlapping{box-shadow:inset 0 0 0 2px #f76808}
.block.marked-deletion,.swatch.marked-deletion{background:repeating-linear-gradient(135deg,#b0b7c3 0 4px,#e4e7ec 4px 8px);opacity:.8}
.block.marked-no-compact,.swatch.marked-no-compact{box-shadow:inset 0 0 0 2px #e0a100}
.swatch.marked-no-compact{background:#fff}
.block.marked-no-downsample::after,.swatch.marked-no-downsample{content:"";position:absolute;right:1px;top:1px;width:6px;height:6px;border-radius:50%;background:#8e4ec6}
.swatch.marked-no-downsample{position:static;width:10px;height:10px}
.selection{position:absolute;top:0;bottom:0;background:rgba(47,111,222,.15);border:1px solid #2f6fde;pointer-events:none}
.details{flex:none;width:360px;background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px 16px;font-size:13px;position:sticky;top:16px;max-height:calc(100vh - 32px);overflow:auto}
.details-head{display:flex;justify-content:space-between;align-items:center;font-weight:600}
.details-head button{border:none;font-size:18px;padding:0 6px}
.details dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:8px 0}
.details dt{color:#5b6475}
.details dd{margin:0;word-break:break-all}
.details h4{margin:10px 0 4px;font-size:13px}
.details ul{margin:0;padding-left:18px;max-height:160px;overflow:auto}
.mark{margin:4px 0;padding:4px 8px;border-radius:4px;background:#f1f3f7}
.mark.deletion{background:#eceef2;border-left:3px solid #8a93a5}
.mark.no-compact{border-left:3px solid #e0a100}
.mark.no-downsample{border-left:3px solid #8e4ec6}
.admin{margin-top:12px;border-top:1px solid #eceef2;padding-top:8px}
.admin input{font:inherit;padding:2px 6px;border:1px solid #c4cad4;border-radius:4px;width:100%}
.admin-buttons{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}
.status{color:#5b6475;font-size:12px;margin-top:6px}
a.download{display:inline-block;margin-top:8px}
`;
