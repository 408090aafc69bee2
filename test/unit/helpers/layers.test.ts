import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../helpers/fixtures';
import {
  layerOf,
  mayImport,
  resolveIn,
  sourceFiles,
  specifiersOf,
  violations,
  workspacePackages,
  type ImportSite,
} from '../../helpers/layers';

function describeViolation(v: ImportSite & { from: string; to: string }): string {
  return `${v.file}:${v.line} imports '${v.specifier}' (${v.from} -> ${v.to})`;
}

describe('the layers of the repository', () => {
  it('every import of the repository goes downward (lab -> tools, local -> packages, shared)', () => {
    const files = sourceFiles(ROOT);
    // The walk must see the groups it checks, or an empty list would pass.
    for (const folder of ['functions/', 'shared/', 'local/', 'tools/', 'lab/', 'packages/', 'test/']) {
      expect(files.some((f) => f.startsWith(folder))).toBe(true);
    }
    const sites = files.flatMap((file) => specifiersOf(file, readFileSync(join(ROOT, file), 'utf8')));
    const found = violations(sites, resolveIn(ROOT), workspacePackages(ROOT)).map(describeViolation);
    expect(found).toEqual([]);
  });

  it('names the file, line and layers of an import that goes sideways or up', () => {
    const text = [
      "import { table } from '../../lab/bench/lib';",
      "import { ensureTopics } from '../../local/kafka/cli';",
      "import { loadConfig } from '../../shared/config';",
      "const plugin = require('serverless-offline-kafka');",
    ].join('\n');
    const sites = specifiersOf('tools/msk/msk-cli.ts', text);
    const resolve = (site: ImportSite) => join('tools/msk', site.specifier).replace(/\\/g, '/') + '.ts';
    expect(
      violations(sites, resolve, { 'serverless-offline-kafka': 'packages/serverless-offline-kafka' }).map(
        describeViolation,
      ),
    ).toEqual([
      "tools/msk/msk-cli.ts:1 imports '../../lab/bench/lib' (tools -> lab)",
      "tools/msk/msk-cli.ts:2 imports '../../local/kafka/cli' (tools -> local)",
    ]);
  });

  it('keeps shared code and functions out of the packages, and a package out of the application', () => {
    const workspaces = { 'serverless-offline-kafka': 'packages/serverless-offline-kafka' };
    const none = () => null;
    expect(
      violations(
        specifiersOf('shared/kafka/x.ts', "import 'serverless-offline-kafka/event-source';"),
        none,
        workspaces,
      ),
    ).toHaveLength(1);
    const resolve = (site: ImportSite) =>
      join('packages/serverless-offline-kafka/test/unit', site.specifier) + '.ts';
    const fromPackage = specifiersOf(
      'packages/serverless-offline-kafka/test/unit/x.test.ts',
      "import { waitFor } from '../../../../test/helpers/wait';\nimport { x } from '../../src/settings';",
    );
    expect(violations(fromPackage, resolve, workspaces).map(describeViolation)).toEqual([
      "packages/serverless-offline-kafka/test/unit/x.test.ts:1 imports '../../../../test/helpers/wait' (packages/serverless-offline-kafka -> test)",
    ]);
  });

  it('treats a top-level folder that no layer names as an error, not as allowed', () => {
    expect(layerOf('scripts/x.ts')).toBe('scripts');
    expect(mayImport('scripts', 'shared')).toBe(false);
    expect(layerOf('jest.config.js')).toBeNull();
    expect(mayImport('lab', 'tools')).toBe(true);
    expect(mayImport('tools', 'lab')).toBe(false);
    expect(mayImport('local', 'tools')).toBe(false);
    expect(mayImport('functions', 'local')).toBe(false);
  });
});
