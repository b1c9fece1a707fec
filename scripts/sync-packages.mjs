// Writes each workspace's package.json and tsconfig.json from scripts/packages.mjs,
// so project references always match the layering table. Run after editing the table.
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { PACKAGES, TOOLS, dirOf } from './packages.mjs';

const all = { ...PACKAGES, ...TOOLS };
const refs = [];
for (const [name, deps] of Object.entries(all)) {
  const dir = dirOf(name);
  const depth = dir.split('/').length;
  const up = '../'.repeat(depth);
  const pkgPath = `${dir}/package.json`;
  const old = existsSync(pkgPath) ? JSON.parse(readFileSync(pkgPath, 'utf8')) : {};
  const pkg = {
    name: `@tswarm/${name}`,
    version: '0.1.0',
    private: true,
    main: 'dist/src/index.js',
    types: 'dist/src/index.d.ts',
    ...old,
    dependencies: Object.fromEntries(deps.map((d) => [`@tswarm/${d}`, '0.1.0'])),
  };
  writeFileSync(pkgPath, JSON.stringify(pkg, null, 2) + '\n');
  const ts = {
    extends: `${up}tsconfig.base.json`,
    compilerOptions: { rootDir: '.', outDir: 'dist' },
    include: ['src', 'test'],
    references: deps.map((d) => ({ path: `${up}${dirOf(d)}` })),
  };
  writeFileSync(`${dir}/tsconfig.json`, JSON.stringify(ts, null, 2) + '\n');
  refs.push({ path: `./${dir}` });
}
writeFileSync('tsconfig.json', JSON.stringify({ files: [], references: refs }, null, 2) + '\n');
