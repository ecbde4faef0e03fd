// BBR congestion control (after draft-cardwell-iccrg-bbr-congestion-control-00,
// "BBRv1", with the ACK-aggregation allowance Linux added). It models the path
// by its bottleneck bandwidth (windowed max of delivery-rate samples) and its
// round-trip propagation time (windowed min RTT), paces at gain × bandwidth
// and caps data in flight at gain × BDP. Random loss is not read as congestion:
// the window only dips to packet conservation for the first round of recovery.
// Sizes in bytes, time in ms, rates in bytes per ms.

import type { CongestionController, CongestionFactory, RateSample } from './congestion.js';

const HIGH_GAIN = 2.885; // 2/ln 2 (draft §4.3.1.1)
const CWND_GAIN = 2; // ProbeBW (draft §4.3.3)
const CYCLE = [1.25, 0.75, 1, 1, 1, 1, 1, 1]; // ProbeBW pacing gains (draft §4.3.3.5)
const BW_WINDOW_ROUNDS = 10; // BtlBwFilterLen (draft §4.1.1.4)
const MIN_RTT_WINDOW = 10_000; // MinRTTFilterLen, ms (draft §4.1.2.3)
const PROBE_RTT_TIME = 200; // ProbeRTTDuration, ms (draft §4.3.4)
const MIN_PIPE_SEGMENTS = 4; // BBRMinPipeCwnd (draft §4.2.3.1)
const EXTRA_ACKED_ROUNDS = 5; // each of the two ACK-aggregation slots covers this many rounds

// biome-ignore lint/suspicious/noConstEnum: module-private, inlined by the compiler
const enum Mode {
  Startup,
  Drain,
  ProbeBw,
  ProbeRtt,
}

export class Bbr implements CongestionController {
  readonly name = 'bbr';
  cwnd: number;
  readonly ssthresh = Infinity;
  /** Undefined until the first bandwidth sample: the connection's cwnd/SRTT rule paces until then. */
  pacingRate: number | undefined;
  private mode = Mode.Startup;
  private pacingGain = HIGH_GAIN;
  private cwndGain = HIGH_GAIN;
  // BtlBw: the max of per-round maxima over the last BW_WINDOW_ROUNDS rounds.
  private readonly bwSlots = new Array<number>(BW_WINDOW_ROUNDS).fill(0);
  private readonly bwSlotRound = new Array<number>(BW_WINDOW_ROUNDS).fill(-1);
  btlBw = 0;
  minRtt = Infinity;
  private minRttStamp = 0;
  private delivered = 0;
  private round = 0;
  private nextRoundDelivered = 0;
  private roundStart = false;
  private fullBw = 0;
  private fullBwCount = 0;
  filledPipe = false;
  private cycleIndex = 0;
  private cycleStamp = 0;
  private probeRttDone = -1;
  private probeRttRoundDone = false;
  private priorCwnd = 0;
  private conservationUntilRound = -1;
  private recoveryStart = false;
  // ACK aggregation (Linux bbr_update_ack_aggregation): bytes ACKed beyond what btlBw explains.
  private aggStart = 0;
  private aggAcked = 0;
  private readonly extraAcked = [0, 0];
  private extraSlot = 0;
  private extraSlotRound = 0;

  constructor(
    private mss: number,
    private readonly initialWindow = 10,
  ) {
    this.cwnd = initialWindow * mss;
  }

  get modeName(): string {
    return ['startup', 'drain', 'probe-bw', 'probe-rtt'][this.mode]!;
  }

  onAck(): void {
    // Everything happens in onRateSample.
  }

  /** Entering recovery: remember the window, hold to packet conservation for one round (draft §4.2.3.4). */
  onLoss(): void {
    this.saveCwnd();
    this.conservationUntilRound = this.round + 1;
    this.recoveryStart = true; // the next sample sets cwnd to the pipe plus what it acknowledged
  }

  onRto(): void {
    this.saveCwnd();
    this.conservationUntilRound = -1;
    this.recoveryStart = false;
    this.cwnd = this.mss; // RFC 5681 §3.1 loss window; the model rebuilds it within a few rounds
  }

  onRecoveryEnd(): void {
    this.conservationUntilRound = -1;
    this.recoveryStart = false;
    this.cwnd = Math.max(this.cwnd, this.priorCwnd); // draft §4.2.3.4: restore
  }

  /** A spurious recovery: end the conservation it started and restore the window. */
  onSpuriousLoss(): void {
    this.onRecoveryEnd();
  }

  setMss(mss: number): void {
    this.mss = mss;
  }

  onHandshakeLoss(): void {
    this.cwnd = this.mss; // Startup doubles it per round from the first delivery
  }

  onIdle(): void {
    // Draft §4.3.4.4: after idle, pace at the estimated bandwidth; the window stands.
    if (this.mode === Mode.ProbeBw) this.pacingRate = this.btlBw > 0 ? this.btlBw : this.pacingRate;
  }

  onRateSample(rs: RateSample, now: number, inFlight: number): void {
    this.delivered += rs.newlyAcked;
    this.updateRound(rs);
    this.updateBtlBw(rs);
    this.updateAckAggregation(rs, now);
    if (this.mode === Mode.ProbeBw) this.updateCycle(rs, now, inFlight);
    this.checkFullPipe(rs);
    this.checkDrain(now, inFlight);
    this.updateMinRtt(rs, now, inFlight);
    this.setPacingRate();
    this.setCwnd(rs, inFlight);
  }

  private get minPipe(): number {
    return MIN_PIPE_SEGMENTS * this.mss;
  }

  /** The estimated bandwidth-delay product, or undefined before both estimates exist. */
  private bdp(gain: number): number | undefined {
    if (this.btlBw === 0 || this.minRtt === Infinity) return undefined;
    return gain * this.btlBw * this.minRtt;
  }

  private saveCwnd(): void {
    this.priorCwnd = this.conservationUntilRound >= 0 || this.mode === Mode.ProbeRtt ? Math.max(this.priorCwnd, this.cwnd) : this.cwnd;
  }

  /** Draft §4.1.1.3: a round ends when a transmission sent after its start is acknowledged. */
  private updateRound(rs: RateSample): void {
    this.roundStart = false;
    if (rs.newlyAcked > 0 && rs.priorDelivered >= this.nextRoundDelivered) {
      this.nextRoundDelivered = this.delivered;
      this.round++;
      this.roundStart = true;
    }
  }

  /** Draft §4.1.1.5: app-limited samples count only when they raise the estimate. */
  private updateBtlBw(rs: RateSample): void {
    if (rs.rate <= 0 || (rs.appLimited && rs.rate < this.btlBw)) return;
    const i = this.round % BW_WINDOW_ROUNDS;
    if (this.bwSlotRound[i] !== this.round) {
      this.bwSlotRound[i] = this.round;
      this.bwSlots[i] = 0;
    }
    if (rs.rate > this.bwSlots[i]!) this.bwSlots[i] = rs.rate;
    let max = 0;
    for (let k = 0; k < BW_WINDOW_ROUNDS; k++) {
      if (this.bwSlotRound[k]! > this.round - BW_WINDOW_ROUNDS && this.bwSlots[k]! > max) max = this.bwSlots[k]!;
    }
    this.btlBw = max;
  }

  private updateAckAggregation(rs: RateSample, now: number): void {
    if (this.btlBw === 0 || rs.newlyAcked === 0) return;
    if (this.roundStart && this.round - this.extraSlotRound >= EXTRA_ACKED_ROUNDS) {
      this.extraSlotRound = this.round;
      this.extraSlot ^= 1;
      this.extraAcked[this.extraSlot] = 0;
    }
    let expected = this.btlBw * (now - this.aggStart);
    if (this.aggAcked <= expected) {
      this.aggAcked = 0;
      this.aggStart = now;
      expected = 0;
    }
    this.aggAcked += rs.newlyAcked;
    const extra = Math.min(this.aggAcked - expected, this.cwnd);
    if (extra > this.extraAcked[this.extraSlot]!) this.extraAcked[this.extraSlot] = extra;
  }

  /** Draft §4.3.3.6: move to the next gain phase after about one min_rtt. */
  private updateCycle(rs: RateSample, now: number, inFlight: number): void {
    const elapsed = now - this.cycleStamp > this.minRtt;
    const gain = this.pacingGain;
    let next = elapsed;
    if (gain > 1) next = elapsed && (rs.newlyLost > 0 || inFlight >= (this.bdp(gain) ?? 0));
    else if (gain < 1) next = elapsed || inFlight <= (this.bdp(1) ?? 0);
    if (!next) return;
    this.cycleIndex = (this.cycleIndex + 1) % CYCLE.length;
    this.cycleStamp = now;
    this.pacingGain = CYCLE[this.cycleIndex]!;
  }

  /** Draft §4.3.2.2: the pipe is full once bandwidth grew less than 25 % for three rounds. */
  private checkFullPipe(rs: RateSample): void {
    if (this.filledPipe || !this.roundStart || rs.appLimited) return;
    if (this.btlBw >= this.fullBw * 1.25) {
      this.fullBw = this.btlBw;
      this.fullBwCount = 0;
      return;
    }
    if (++this.fullBwCount >= 3) this.filledPipe = true;
  }

  private checkDrain(now: number, inFlight: number): void {
    if (this.mode === Mode.Startup && this.filledPipe) {
      this.mode = Mode.Drain; // draft §4.3.2: drain the queue Startup built
      this.pacingGain = 1 / HIGH_GAIN;
      this.cwndGain = HIGH_GAIN;
    }
    if (this.mode === Mode.Drain && inFlight <= (this.bdp(1) ?? Infinity)) this.enterProbeBw(now);
  }

  private enterProbeBw(now: number): void {
    this.mode = Mode.ProbeBw;
    this.cwndGain = CWND_GAIN;
    // The draft starts at a random phase other than the 0.75 one; the core draws no randomness,
    // so the round count picks it.
    this.cycleIndex = 2 + (this.round % (CYCLE.length - 2));
    this.pacingGain = CYCLE[this.cycleIndex]!;
    this.cycleStamp = now;
  }

  /** Draft §4.1.2 and §4.3.4: track min_rtt; when it is 10 s old, drain the pipe for 200 ms to re-measure. */
  private updateMinRtt(rs: RateSample, now: number, inFlight: number): void {
    const expired = now > this.minRttStamp + MIN_RTT_WINDOW;
    if (rs.rtt >= 0 && (rs.rtt < this.minRtt || expired)) {
      this.minRtt = rs.rtt;
      this.minRttStamp = now;
    }
    if (expired && this.mode !== Mode.ProbeRtt && this.minRtt !== Infinity) {
      this.mode = Mode.ProbeRtt;
      this.pacingGain = 1;
      this.cwndGain = 1;
      this.saveCwnd();
      this.probeRttDone = -1;
    }
    if (this.mode !== Mode.ProbeRtt) return;
    if (this.probeRttDone < 0 && inFlight <= this.minPipe) {
      this.probeRttDone = now + PROBE_RTT_TIME;
      this.probeRttRoundDone = false;
      this.nextRoundDelivered = this.delivered;
    } else if (this.probeRttDone >= 0) {
      if (this.roundStart) this.probeRttRoundDone = true;
      if (this.probeRttRoundDone && now >= this.probeRttDone) {
        this.minRttStamp = now;
        this.cwnd = Math.max(this.cwnd, this.priorCwnd);
        if (this.filledPipe) this.enterProbeBw(now);
        else {
          this.mode = Mode.Startup;
          this.pacingGain = this.cwndGain = HIGH_GAIN;
        }
      }
    }
  }

  /** Draft §4.2.1: pace at gain × BtlBw; in Startup never lower than before. */
  private setPacingRate(): void {
    if (this.btlBw === 0) return;
    const rate = this.pacingGain * this.btlBw;
    if (this.filledPipe || rate > (this.pacingRate ?? 0)) this.pacingRate = rate;
  }

  /** Draft §4.2.3: grow toward gain × BDP (plus ACK aggregation), conserve in recovery, 4 segments in ProbeRTT. */
  private setCwnd(rs: RateSample, inFlight: number): void {
    const acked = rs.newlyAcked;
    const bdp = this.bdp(this.cwndGain);
    const target = Math.max(bdp === undefined ? this.initialWindow * this.mss : bdp + Math.max(...this.extraAcked), this.minPipe);
    if (this.recoveryStart) {
      // Bytes in flight (the pipe, not FlightSize: SACKed data has left the network).
      this.recoveryStart = false;
      this.cwnd = inFlight + acked;
    } else if (this.conservationUntilRound >= 0 && this.round < this.conservationUntilRound) {
      this.cwnd = Math.max(this.cwnd, inFlight + acked);
    } else if (this.filledPipe) {
      this.cwnd = Math.min(this.cwnd + acked, target);
    } else if (this.cwnd < target || this.delivered < this.initialWindow * this.mss) {
      this.cwnd += acked;
    }
    this.cwnd = Math.max(this.cwnd, this.minPipe);
    if (this.mode === Mode.ProbeRtt) this.cwnd = Math.min(this.cwnd, this.minPipe);
  }
}

export const bbr: CongestionFactory = (mss) => new Bbr(mss);
