import {
  classifyAgent,
  countsAsVisitor,
  decodeRequestKey,
  encodeRequestKey,
  isStaticFile,
  refererHost,
  requestKey,
} from '../../../../shared/analytics/classify';

describe('requestKey', () => {
  it('splits METHOD URI PROTOCOL and keeps the query string', () => {
    expect(requestKey('GET /a?b=1 HTTP/1.1')).toEqual({ method: 'GET', protocol: 'HTTP/1.1', uri: '/a?b=1' });
    expect(requestKey('propfind /dav/ HTTP/1.1')).toEqual({
      method: 'PROPFIND',
      protocol: 'HTTP/1.1',
      uri: '/dav/',
    });
  });
  it('decodes %XX escapes once, keeping + and text that does not decode to UTF-8', () => {
    expect(requestKey('GET /caf%C3%A9?q=%20x%2Fy+z HTTP/1.1').uri).toBe('/café?q= x/y+z');
    expect(requestKey('GET /%E9t%E9 HTTP/1.1').uri).toBe('/%E9t%E9');
    expect(requestKey('GET /100%zz HTTP/1.1').uri).toBe('/100%zz');
  });
  it('gives "-" for a method without a protocol and the whole text for junk', () => {
    expect(requestKey('GET /')).toEqual({ method: '---', protocol: '---', uri: '-' });
    expect(requestKey('\x16\x03\x01 junk')).toEqual({
      method: '---',
      protocol: '---',
      uri: '\x16\x03\x01 junk',
    });
    expect(requestKey('')).toEqual({ method: '---', protocol: '---', uri: '-' });
  });
  it('round-trips through its counter encoding, spaces in the URI included', () => {
    const key = { method: '---', protocol: '---', uri: 'a b c' };
    expect(decodeRequestKey(encodeRequestKey(key))).toEqual(key);
  });
});

describe('classification', () => {
  it('knows static files by the extension of the path', () => {
    expect(isStaticFile('/a/app.JS')).toBe(true);
    // GoAccess looks at the end of the whole URI: a query string after the extension makes it a page
    expect(isStaticFile('/a/app.js?v=1')).toBe(false);
    expect(isStaticFile('/logo.png')).toBe(true);
    expect(isStaticFile('/index.html')).toBe(false);
    expect(isStaticFile('/v1.2/x')).toBe(false);
    expect(isStaticFile('/?file=a.css')).toBe(true);
  });
  it('leaves 4xx answers out of unique visitors', () => {
    expect(countsAsVisitor(200)).toBe(true);
    expect(countsAsVisitor(404)).toBe(false);
    expect(countsAsVisitor(503)).toBe(true);
  });
  it('reads referer hosts', () => {
    expect(refererHost('https://example.com/x?y')).toBe('example.com');
    expect(refererHost('http://[::1]:8080/')).toBe('[::1]:8080');
    expect(refererHost(null)).toBeNull();
  });
  it('names browser and OS families', () => {
    expect(classifyAgent('Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0')).toEqual({
      browser: 'Firefox',
      os: 'Linux',
    });
    expect(classifyAgent('Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1').os).toBe(
      'iOS',
    );
    expect(classifyAgent('curl/8.5.0')).toEqual({ browser: 'Others', os: 'Unknown' });
    expect(classifyAgent('Googlebot/2.1').browser).toBe('Crawlers');
    expect(classifyAgent(null)).toEqual({ browser: 'Unknown', os: 'Unknown' });
  });
});
