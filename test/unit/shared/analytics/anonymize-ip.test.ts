import { anonymizeIpEnabled, maskAddress } from '../../../../shared/analytics/anonymize-ip';
import { TrafficFold } from '../../../../shared/analytics/fold';
import { parseCombined } from '../../../../shared/nginx/combined';

describe('maskAddress, as GoAccess --anonymize-ip (examples from its manual and its output)', () => {
  it.each([
    ['192.168.20.100', '192.168.20.0'],
    ['2a03:2880:2110:df07:face:b00c::1', '2a03:2880:2110:df07::'],
    ['2001:db8::7', '2001:db8::'],
    ['2001:db8:0:0:1:2:3:4', '2001:db8::'],
    ['1:0:0:2:5:6:7:8', '1:0:0:2::'],
    ['::1', '::'],
    ['::ffff:1.2.3.4', '::'],
    ['unix:', 'unix:'],
  ])('%s → %s', (address, masked) => {
    expect(maskAddress(address)).toBe(masked);
  });
});

describe('anonymizeIpEnabled', () => {
  it('is off unless ANONYMIZE_IP says true, and refuses what it cannot read', () => {
    expect(anonymizeIpEnabled({})).toBe(false);
    expect(anonymizeIpEnabled({ ANONYMIZE_IP: 'false' })).toBe(false);
    expect(anonymizeIpEnabled({ ANONYMIZE_IP: 'true' })).toBe(true);
    expect(anonymizeIpEnabled({ ANONYMIZE_IP: '1' })).toBe(true);
    expect(() => anonymizeIpEnabled({ ANONYMIZE_IP: 'yes please' })).toThrow(
      'ANONYMIZE_IP must be true or false',
    );
  });
});

describe('a fold with anonymized addresses', () => {
  const lines = ['192.0.2.10', '192.0.2.11', '192.0.2.11', '2001:db8::1'].map(
    (addr) => `${addr} - - [02/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.5.0"`,
  );
  const fold = (anonymizeIp: boolean) => {
    const f = new TrafficFold({ anonymizeIp });
    for (const l of lines) {
      const r = parseCombined(l);
      if (r.ok) f.add(r.record);
    }
    return f;
  };

  it('holds masked addresses only, and counts unique visitors on the whole ones', () => {
    const masked = fold(true);
    expect([...masked.panels.hosts]).toEqual([
      ['192.0.2.0', 3],
      ['2001:db8::', 1],
    ]);
    expect(masked.uniqueVisitors).toBe(3);
    expect(fold(false).uniqueVisitors).toBe(3);
  });
});
