import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The folder holding serverless.yml, found upward from this file (works from sources and from dist/). */
export function projectRoot(from: string = __dirname): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'serverless.yml')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the project folder (serverless.yml) above ${from}`);
    dir = parent;
  }
}
