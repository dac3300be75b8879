// What a portal visit records besides the time and the page: the device family
// ("iPhone", "Android phone", "Windows PC"), parsed here from the User-Agent with
// ua-parser-js 1.x (MIT), and a keyed hash of the visitor's network (IPv4 /24,
// IPv6 /48), never the address itself. Both go to portal_page() as parameters.
import crypto from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { UAParser } from 'ua-parser-js';
import { config } from '../config.js';
import { memoize } from '../lib/memo.js';

const APPLE_MODELS = new Set(['iPhone', 'iPad', 'iPod']);

// i18n-exempt: device names stored in the visit log as recorded (portal_visits.device), shown to the business as they are
const COMPUTERS: Record<string, string> = {
  // i18n-exempt: operating system names as ua-parser-js reports them
  'Mac OS': 'Mac',
  macOS: 'Mac',
  // i18n-exempt: a device name stored in the visit log as recorded
  Windows: 'Windows PC',
  // i18n-exempt: operating system names as ua-parser-js reports them
  'Chromium OS': 'Chromebook',
  // i18n-exempt: operating system names as ua-parser-js reports them
  'Chrome OS': 'Chromebook',
  // i18n-exempt: a device name stored in the visit log as recorded
  Linux: 'Linux computer',
  // i18n-exempt: a device name stored in the visit log as recorded
  Ubuntu: 'Linux computer',
  // i18n-exempt: a device name stored in the visit log as recorded
  Fedora: 'Linux computer',
  // i18n-exempt: a device name stored in the visit log as recorded
  Debian: 'Linux computer',
};

/** A short, human name for the kind of device, or null when the User-Agent says nothing useful. */
export function deviceFamily(userAgent: string | undefined): string | null {
  return userAgent ? familyOf(userAgent.slice(0, 512)) || null : null;
}

// Parsing a User-Agent is tens of microseconds and a customer's browser sends the same one on every view.
const familyOf = memoize((userAgent: string): string => {
  const { device, os } = new UAParser(userAgent).getResult();
  if (device.model && APPLE_MODELS.has(device.model)) return device.model;
  const system = os.name === 'Android' ? 'Android' : os.name;
  // i18n-exempt: a stored device name (see COMPUTERS)
  if (device.type === 'mobile') return system ? `${system} phone` : 'Phone';
  // i18n-exempt: a stored device name (see COMPUTERS)
  if (device.type === 'tablet') return system ? `${system} tablet` : 'Tablet';
  if (device.type === 'smarttv') return 'TV';
  if (system && COMPUTERS[system]) return COMPUTERS[system];
  return system ? system.slice(0, 60) : '';
}, 2000);

let cachedKey: { secret: string; key: Buffer } | undefined;

function networkKey(): Buffer {
  if (cachedKey?.secret !== config.appSecret) {
    cachedKey = {
      secret: config.appSecret,
      // i18n-exempt: key derivation labels
      key: Buffer.from(crypto.hkdfSync('sha256', config.appSecret, 'porchlight-portal', 'visit-network', 32)),
    };
  }
  return cachedKey.key;
}

/** "203.0.113.77" → "203.0.113.0/24"; an IPv6 address → its /48; null for anything else. */
export function truncatedNetwork(ip: string | undefined): string | null {
  if (!ip) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const v4 = mapped ? mapped[1] : ip;
  if (isIPv4(v4)) return `${v4.split('.').slice(0, 3).join('.')}.0/24`;
  if (!isIPv6(ip)) return null;
  // Expand "::" to get the first three 16-bit groups.
  const [head, tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 3)
    .map((g) => parseInt(g || '0', 16).toString(16))
    .join(':')}::/48`;
}

/** The keyed hash of the network `ip` is in ('' when it is no address), computed under the current secret. */
function networkHashOf(ip: string): string {
  const network = truncatedNetwork(ip);
  return network ? crypto.createHmac('sha256', networkKey()).update(network).digest('hex').slice(0, 32) : '';
}

// A customer's views come from the same address: its hash is kept (per secret) instead of an HMAC per view (issue 16).
let hashes: { secret: string; of: (ip: string) => string } | undefined;

/** A keyed hash of the visitor's network: lets visits from one place be told apart, reveals no address. */
export function visitNetworkHash(ip: string | undefined): string | null {
  if (!ip) return null;
  if (hashes?.secret !== config.appSecret) hashes = { secret: config.appSecret, of: memoize(networkHashOf, 5000) };
  return hashes.of(ip) || null;
}
