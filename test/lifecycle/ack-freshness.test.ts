// Every segment we send carries the latest RCV.NXT (issue 14 §6): when an arriving segment
// both acknowledges our data and carries the peer's, what its ACK lets us send must already
// acknowledge that data, not wait for the delayed-ACK timer.
import { describe, it } from 'vitest';
import { activeOpen } from '../helpers/script.js';

describe('ACK freshness', () => {
  it("data released by an ACK that came with the peer's data acknowledges that data (RFC 9293 §3.10.7.4, steps 5-7 before output)", () => {
    const s = activeOpen();
    s.at(100).write(100);
    s.expect({ flags: 'A', seq: 1, ack: 1, len: 100 });
    s.write(100); // held by Nagle: a small segment is in flight
    s.expectNothing();
    // The peer's reply: it acknowledges our 100 bytes and brings 50 of its own.
    s.at(120).inject({ flags: 'A', seq: 1, ack: 101, len: 50 });
    s.expect({ flags: 'A', seq: 101, ack: 51, len: 100 });
  });
});
