// The whole stack, streams included, over a hostile simulated link with default settings:
// an echo through s.pipe(s) with 50 % loss one way, 30 % reordering, duplication and a 60 s
// outage both ways arrives intact and both sockets close (issue 14; invariants 1, 8, 13, 15).
import { describe, expect, it } from 'vitest';
import { connect, createServer, type Socket } from '../../src/index.js';
import { prngEnv, settle, SimNetwork } from '../../src/sim.js';
import { pattern, sha256 } from '../stream/helpers.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

describe('streams over a hostile link', () => {
  it('a 256 KiB echo with 50 % loss one way, 30 % reordering and a 60 s outage arrives intact; every socket closes (8 seeds)', async () => {
    const failed: string[] = [];
    for (let seed = 1; seed <= 8; seed++) {
      const net = new SimNetwork({ seed, link: { delay: [10, 40], reorder: 0.3, duplicate: 0.05 }, trace: false });
      const lossy = (): void =>
        seed % 2 ? net.setLink(B, A, { loss: 0.5, delay: [10, 40], reorder: 0.3 }) : net.setLink(A, B, { loss: 0.5, delay: [10, 40], reorder: 0.3 });
      lossy();
      net.at(2_000, () => net.setLinkBoth(A, B, { blackhole: true }));
      net.at(62_000, () => {
        net.setLinkBoth(A, B, { blackhole: false });
        lossy();
      });
      const on = (address: string, port = 0) => ({ transport: net.bind({ address, port }), clock: net.clock, env: prngEnv(net.prng.fork()) });
      const accepted: Socket[] = [];
      const server = createServer(on(B, 7), (s) => {
        accepted.push(s);
        s.pipe(s);
      });
      server.listen();
      const c = connect({ port: 7, host: B, ...on(A) });
      const data = pattern(256 * 1024, seed);
      const chunks: Buffer[] = [];
      let error: string | undefined;
      c.on('data', (d: Buffer) => chunks.push(d));
      c.on('error', (e: NodeJS.ErrnoException) => (error = e.code));
      c.end(data);
      await settle(net, { done: () => c.destroyed && accepted.length === 1 && accepted[0]!.destroyed, until: 3_600_000 });
      const back = Buffer.concat(chunks);
      if (error || sha256(back) !== sha256(data) || !c.destroyed || !accepted[0]?.destroyed) {
        failed.push(`seed ${seed}: error ${error}, ${back.length} bytes back, closed ${c.destroyed}/${accepted[0]?.destroyed}`);
      }
      server.close();
    }
    expect(failed).toEqual([]);
  }, 60_000);
});
