// Fails the build when a workspace imports a @tswarm package it does not reference,
// or when a reference breaks DESIGN.md's dependency direction (scripts/packages.mjs).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGES, TOOLS, dirOf } from './packages.mjs';

const all = { ...PACKAGES, ...TOOLS };
const IMPORT = /(?:from\s+|import\s+|require\(\s*|import\(\s*)['"]@tswarm\/([a-z0-9-]+)/g;
const problems = [];

function* tsFiles(dir) {
  let names;
  try { names = readdirSync(dir); } catch { return; }
  for (const n of names) {
    const p = join(dir, n);
    if (n === 'node_modules' || n === 'dist') continue;
    if (statSync(p).isDirectory()) yield* tsFiles(p);
    else if (n.endsWith('.ts') && !n.endsWith('.d.ts')) yield p;
  }
}

for (const [name, deps] of Object.entries(all)) {
  const dir = dirOf(name);
  const ts = JSON.parse(readFileSync(`${dir}/tsconfig.json`, 'utf8'));
  const referenced = new Set((ts.references ?? []).map((r) => r.path.split('/').pop()));
  for (const d of referenced) {
    if (!deps.includes(d)) problems.push(`${dir}/tsconfig.json references ${d}, which scripts/packages.mjs does not allow`);
  }
  for (const file of [...tsFiles(`${dir}/src`), ...tsFiles(`${dir}/test`)]) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = m[1];
      if (target === name) continue;
      if (!deps.includes(target) || !referenced.has(target)) {
        problems.push(`${file} imports @tswarm/${target}, but ${name} may only use: ${deps.join(', ') || 'nothing'}`);
      }
    }
  }
}
if (problems.length) {
  for (const p of problems) console.error(`layering: ${p}`);
  process.exit(1);
}
