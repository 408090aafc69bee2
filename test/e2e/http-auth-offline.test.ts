/**
 * The read routes' authorizer under serverless offline, as an operator and a browser meet it: with
 * HTTP_AUTH=on the same Lambda authorizer the aws stage uses (functions/read-authorizer.ts) guards GET /stats
 * and GET /dashboard, with the token from READ_TOKEN; a foreign origin never gets a credentialed CORS answer.
 * (serverless offline cannot check SigV4, so the IAM-guarded POST routes stay open locally.)
 */
import { randomBytes } from 'node:crypto';
import { chromium, type Browser } from 'playwright-core';
import type { RunningOffline } from '../../demo/offline';
import { uniqueName } from '../helpers/kafka';
import { startTestOffline } from '../helpers/offline';

jest.setTimeout(240000);

const topic = uniqueName('auth');
const TOKEN = randomBytes(32).toString('hex');
let offline: RunningOffline;
let browser: Browser | undefined;

beforeAll(async () => {
  offline = await startTestOffline({
    topic,
    deadLetterTopic: `${topic}-dlq`,
    env: { HTTP_AUTH: 'on', READ_TOKEN: TOKEN, ANALYTICS_PREFIX: `test-${topic}` },
  });
});

afterAll(async () => {
  await browser?.close();
  const code = await offline?.stop();
  expect(code).toBe(0);
});

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${offline.url}${path}`, { headers }).then(async (r) => ({
    status: r.status,
    headers: r.headers,
    body: await r.text(),
  }));

describe('GET routes with HTTP_AUTH=on', () => {
  it('refuses a request without the token, or with a wrong one', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: `Bearer ${TOKEN.slice(1)}x` },
      { cookie: 'nks_read_token=nope' },
    ];
    for (const headers of attempts) {
      const answer = await get('/stats', headers);
      expect([JSON.stringify(headers), [401, 403].includes(answer.status)]).toEqual([
        JSON.stringify(headers),
        true,
      ]);
      expect(answer.body).not.toContain('"requests"');
    }
  });

  it('answers a request with the token as a bearer header or as the cookie', async () => {
    const bearer = await get('/stats', { authorization: `Bearer ${TOKEN}` });
    expect(bearer.status).toBe(200);
    expect(JSON.parse(bearer.body)).toHaveProperty('requests');
    const cookie = await get('/dashboard', { cookie: `theme=dark; nks_read_token=${TOKEN}` });
    expect(cookie.status).toBe(200);
    expect(cookie.body).toContain('<html');
  });

  it('a foreign origin gets no credentialed CORS answer, even with a valid token', async () => {
    const answer = await get('/stats', { origin: 'https://evil.example', authorization: `Bearer ${TOKEN}` });
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
    expect(answer.headers.get('access-control-allow-origin')).not.toBe('*');
  });

  it('a browser with the cookie loads the dashboard, which reads /stats with it; without it the page is refused', async () => {
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox'],
    });
    const refused = await browser.newPage();
    expect((await refused.goto(`${offline.url}/dashboard`))?.status()).toBe(403);
    const context = await browser.newContext();
    await context.addCookies([{ name: 'nks_read_token', value: TOKEN, url: offline.url }]);
    const page = await context.newPage();
    const stats = page.waitForResponse((r) => r.url().includes('/stats'), { timeout: 60000 });
    expect((await page.goto(`${offline.url}/dashboard`))?.status()).toBe(200);
    expect((await stats).status()).toBe(200);
  });
});
