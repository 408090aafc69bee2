/** Loads test fixtures and sample events by name, so tests never build paths by hand. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export function fixtureText(name: string): string {
  return readFileSync(join(ROOT, 'test', 'fixtures', name), 'utf8');
}

export function fixtureLines(name: string): string[] {
  return fixtureText(name)
    .split('\n')
    .filter((line) => line.length > 0);
}

export function sampleEvent<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(join(ROOT, 'events', name), 'utf8')) as T;
}

export function sampleLog(name = 'access.log'): string[] {
  return readFileSync(join(ROOT, 'events', name), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0);
}
