#!/usr/bin/env node
// Summarises a V8 .cpuprofile (as bench/lib/probe.ts writes them): the functions with the most self
// time, as a share of the samples in which the process was busy (not idle), and the same by package.
//
//   node bench/lib/cpuprofile.ts <file.cpuprofile> [--top 12]
//
// For the whole call tree, open the file in Chrome DevTools (Performance → Load profile) or
// https://www.speedscope.app.
import { readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const SPECIAL: Record<string, string> = {
  '(garbage collector)': 'GC',
  '(program)': '(program)',
  '(idle)': '(idle)',
  '(root)': '(root)',
};

/** The parts of a V8 CPU profile (inspector `Profiler.Profile`) the summary reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileSummary {
  samples: number;
  busy: number;
  seconds: number;
  top: { fn: string; where: string; pct: number }[];
  packages: { pkg: string; pct: number }[];
}

/** A file path or URL as short as it can be while still saying where: package path, repo path or node:. */
export function shortUrl(url: string, roots: readonly string[] = [ROOT]): string {
  if (!url) return '';
  const p = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = p.lastIndexOf('/node_modules/');
  if (nm >= 0) return p.slice(nm + '/node_modules/'.length);
  for (const r of roots) if (p.startsWith(`${r}/`)) return relative(r, p);
  return p;
}

/** The package a frame belongs to: an npm package, services/<x> or libs/<x>, node, or a V8 bucket. */
function packageOf(fn: string, url: string, roots: readonly string[]): string {
  const special = SPECIAL[fn];
  if (special && !url) return special === '(program)' ? '(program: V8/native, no JS frame)' : special;
  const s = shortUrl(url, roots);
  if (!s) return '(native)';
  if (s.startsWith('node:')) return 'node';
  if (url.includes('/node_modules/')) {
    const [a = '', b = ''] = s.split('/');
    return a.startsWith('@') ? `${a}/${b}` : a;
  }
  const m = /^(services|libs)\/([^/]+)/.exec(s);
  return m ? `${m[1]}/${m[2]}` : s;
}

/**
 * { samples, busy, seconds, top: [{ fn, where, pct }], packages: [{ pkg, pct }] }: self time of each
 * function (summed over every call path it appears on) in % of the busy samples. Shares only: when
 * the machine is loaded the sampler thread runs late, so a sample's time delta is not CPU time.
 */
export function summarize(
  profile: CpuProfile,
  { top = 12, roots = [ROOT] }: { top?: number; roots?: readonly string[] } = {},
): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  for (const id of profile.samples) hits.set(id, (hits.get(id) ?? 0) + 1);
  const fns = new Map<string, { fn: string; where: string; n: number }>();
  const pkgs = new Map<string, number>();
  let busy = 0;
  for (const [id, n] of hits) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += n;
    const where = url ? `${shortUrl(url, roots)}:${lineNumber + 1}` : SPECIAL[functionName] ? '' : '(native)';
    const key = `${functionName}\0${where}`;
    const f = fns.get(key) ?? { fn: functionName || '(anonymous)', where, n: 0 };
    f.n += n;
    fns.set(key, f);
    const pkg = packageOf(functionName, url, roots);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + n);
  }
  const pct = (n: number): number => (busy ? (n / busy) * 100 : 0);
  return {
    samples: profile.samples.length,
    busy,
    seconds: (profile.endTime - profile.startTime) / 1e6,
    top: [...fns.values()]
      .sort((a, b) => b.n - a.n)
      .slice(0, top)
      .map((f) => ({ fn: f.fn, where: f.where, pct: pct(f.n) })),
    packages: [...pkgs].sort((a, b) => b[1] - a[1]).map(([pkg, n]) => ({ pkg, pct: pct(n) })),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node bench/lib/cpuprofile.ts <file.cpuprofile> [--top 12]\n');
    process.exit(2);
  }
  const i = process.argv.indexOf('--top');
  const s = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, {
    top: i > 0 ? Number(process.argv[i + 1]) : 12,
  });
  process.stdout.write(
    `${s.busy} busy samples of ${s.samples} over ${s.seconds.toFixed(1)} s\n\n| self % | function | where |\n|---:|---|---|\n` +
      s.top.map((f) => `| ${f.pct.toFixed(1)} | \`${f.fn}\` | ${f.where} |`).join('\n') +
      `\n\nby package: ${s.packages.map((p) => `${p.pkg} ${p.pct.toFixed(1)} %`).join(', ')}\n`,
  );
}
