// `npm run dev` logs one short line per request: no JSON, no static files, no portal tokens.
import { spawn } from 'node:child_process';
import { expect } from 'chai';

describe('development request log', function () {
  this.timeout(60_000);

  it('prints one short pretty line per request, skips static files and hides portal tokens', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/dev/fixtures/log-requests.ts'], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    await new Promise((resolve) => child.once('exit', resolve));
    const lines = out.split('\n').filter((l) => l.trim());
    const requests = lines.filter((l) => / (GET) \//.test(l));
    expect(requests, out).to.have.length(2);
    expect(requests[0]).to.match(/GET \/customers 200 \d+ms/);
    expect(requests[1]).to.match(/GET \/p\/\[token\] 200 \d+ms/);
    for (const line of lines) {
      expect(line.length, line).to.be.below(200);
      expect(line.trim().startsWith('{'), line).to.equal(false);
    }
    expect(out).not.to.contain('SECRETtoken');
    expect(out).not.to.contain('app.css');
  });
});
