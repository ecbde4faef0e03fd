// The loopback a netlab namespace gives a scenario: its MTU, whether GSO may hand the qdisc
// 64 KiB super-packets, where the 100 Mbit/s shaper sits, and the kernel TCP's controller.
//
// netlab's own shaper (--rate) is a tbf on lo's egress: the TCP sender's own qdisc. TCP Small
// Queues lets a socket keep only about a millisecond at its pacing rate (or two packets) in the
// qdiscs below it, so behind another flow's 40 ms standing queue a 1500-byte-MTU TCP flow moves
// two packets per 40 ms whatever its window (measured: cwnd 288, no loss, 0.4 MB/s). A router's
// queue is not the sender's. `ingressRate` shapes on lo's ingress instead (redirected to an ifb
// device), where TCP Small Queues no longer counts the packets: data and ACKs still share it.
import { execFileSync } from 'node:child_process';

export interface LoSetup {
  /** Loopback MTU (default: 65536). */
  mtu?: number;
  /** false: GSO off, so TCP's frames reach the shaper MTU-sized. */
  gso?: boolean;
  /** Shape lo's ingress to this tc rate (tbf, 256 KiB bucket, 20 ms queue) through ifb0. */
  ingressRate?: string;
  /** net.ipv4.tcp_congestion_control in the namespace (one the host allows there: reno or bbr here). */
  tcpCc?: string;
}

/** The share figure's path: an Ethernet MTU, no super-packets, a router-like shaper, loss-based TCP. */
export const SHARE_LO: LoSetup = { mtu: 1500, gso: false, ingressRate: '100mbit', tcpCc: 'reno' };

/** `lo` with the environment's overrides: RD_LO_MTU, RD_LO_GSO=off|on, RD_TCP_CC (README). */
export function withEnv(lo: LoSetup = {}): LoSetup {
  const e = process.env;
  return {
    ...lo,
    ...(e.RD_LO_MTU ? { mtu: Number(e.RD_LO_MTU) } : {}),
    ...(e.RD_LO_GSO ? { gso: e.RD_LO_GSO !== 'off' } : {}),
    ...(e.RD_TCP_CC ? { tcpCc: e.RD_TCP_CC } : {}),
  };
}

/** One sentence for a figure's intro. */
export function describeLo(lo: LoSetup): string {
  const cc = lo.tcpCc ?? `${hostTcpCc()} (the kernel's default, which the namespace inherits)`;
  const shaper = lo.ingressRate ? `shaped to ${lo.ingressRate} on its ingress (ifb), not in TCP's own qdisc` : 'shaped by netlab on its egress';
  const gso = lo.gso === false ? 'GSO off' : 'GSO on (TCP hands the qdisc up to 64 KiB at once)';
  return `TCP congestion control: ${cc}; loopback MTU ${lo.mtu ?? 65536}, ${gso}, ${shaper}.`;
}

function hostTcpCc(): string {
  try {
    return execFileSync('sysctl', ['-n', 'net.ipv4.tcp_congestion_control'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** Apply `lo` to this process's namespace; refuses outside a netlab namespace (never the host's). */
export function applyLo(lo: LoSetup): void {
  if (lo.mtu === undefined && lo.gso === undefined && !lo.ingressRate && !lo.tcpCc) return;
  const ns = execFileSync('ip', ['netns', 'identify', String(process.pid)], { encoding: 'utf8' }).trim();
  if (!ns.startsWith('netlab-')) throw new Error(`loopback settings need a netlab namespace (in '${ns || 'the host'}')`);
  const run = (cmd: string, ...args: string[]): void => void execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  if (lo.tcpCc) run('sysctl', '-qw', `net.ipv4.tcp_congestion_control=${lo.tcpCc}`);
  const mtu = String(lo.mtu ?? 65536);
  if (lo.mtu !== undefined) run('ip', 'link', 'set', 'dev', 'lo', 'mtu', mtu);
  if (lo.gso === false) run('ip', 'link', 'set', 'dev', 'lo', 'gso_max_segs', '1', 'gso_max_size', mtu);
  if (lo.ingressRate) {
    run('ip', 'link', 'add', 'ifb0', 'type', 'ifb');
    run('ip', 'link', 'set', 'ifb0', 'up');
    run('tc', 'qdisc', 'add', 'dev', 'lo', 'handle', 'ffff:', 'ingress');
    run(
      'tc',
      'filter',
      'add',
      'dev',
      'lo',
      'parent',
      'ffff:',
      'protocol',
      'all',
      'u32',
      'match',
      'u32',
      '0',
      '0',
      'action',
      'mirred',
      'egress',
      'redirect',
      'dev',
      'ifb0',
    );
    run('tc', 'qdisc', 'add', 'dev', 'ifb0', 'root', 'tbf', 'rate', lo.ingressRate, 'burst', '256kb', 'latency', '20ms');
  }
}
