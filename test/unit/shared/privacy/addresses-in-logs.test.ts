/**
 * Client addresses are personal data: the production handlers that see them log no address, neither per SNS
 * delivery nor per alert. Checked on the log lines the code writes, with the real sample event.
 */
import type { SNSEvent } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loggable } from '../../../../shared/alerts/raise';
import { evaluateWindow } from '../../../../shared/alerts/detect';
import { handler as snsSubscriber } from '../../../../functions/sns-subscriber';
import { ROOT } from '../../../helpers/fixtures';

function captured(run: () => Promise<unknown> | unknown): Promise<string[]> {
  const lines: string[] = [];
  const level = process.env.LOG_LEVEL;
  process.env.LOG_LEVEL = 'info';
  const out = jest.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line));
  const err = jest.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line));
  return Promise.resolve(run())
    .then(() => lines)
    .finally(() => {
      process.env.LOG_LEVEL = level;
      out.mockRestore();
      err.mockRestore();
    });
}

describe('client addresses stay out of the logs', () => {
  it('an SNS delivery is logged with its status and path but without the client address', async () => {
    const event = JSON.parse(readFileSync(join(ROOT, 'events/sns-nginx-logs.json'), 'utf8')) as SNSEvent;
    const addresses = event.Records.map(
      (r) => (JSON.parse(r.Sns.Message) as { remoteAddr: string }).remoteAddr,
    );
    expect(addresses.every((a) => a.length > 0)).toBe(true); // so the check below can fail
    const lines = await captured(() => snsSubscriber(event));
    const deliveries = lines.filter((l) => l.includes('.delivery'));
    expect(deliveries).toHaveLength(event.Records.length);
    for (const line of deliveries) {
      const fields = JSON.parse(line) as Record<string, unknown>;
      expect(fields.status).toEqual(expect.any(Number));
      expect(fields.remoteAddr).toBeUndefined();
      for (const address of addresses) expect(line).not.toContain(address);
    }
  });

  it('a scanner alert is logged without the client (also inside its id); the spike alert is logged whole', () => {
    const scans = new Map([['203.0.113.9', 12]]);
    const [spike, scanner] = evaluateWindow(
      1_700_000_000,
      { requests: 40, serverErrors: 30, scans },
      { serverErrorMin: 20, serverErrorRatio: 0.2, scannerMin: 10, topic: 'nginx_alerts' },
    );
    expect(scanner).toMatchObject({ kind: 'scanner', client: '203.0.113.9' });
    const logged = loggable(scanner!);
    expect(JSON.stringify(logged)).not.toContain('203.0.113');
    expect(logged).toMatchObject({ kind: 'scanner', notFoundOnScannerPaths: 12 });
    expect(loggable(spike!)).toEqual(spike);
  });
});
