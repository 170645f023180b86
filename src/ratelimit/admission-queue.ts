/**
 * @module ratelimit/admission-queue: how an isolate's requests for one key and model wait on the
 * tenant's object. A request spends a leased token if the isolate holds one; else it joins a line,
 * and one call at a time is made for everyone in the line (`need`). The requests a call was made
 * for share its answer: as many as it granted pass, a refusal refuses them all. Requests that
 * arrive while a call is out spend what it leased, or make the next call. So of N requests at once
 * against a bucket of B exactly min(N, B) pass, and every refusal and admission is counted once.
 *
 * Each request runs its own part in its own handler: the call is made by a request of the line
 * (a Worker may not use one request's I/O objects, the tenant object's stub, for another), and a
 * waiting request awaits the promise of the call it waits on, made by the calling request, then
 * reads what the call decided for it. Resolving a promise a waiting request made would run the
 * rest of that request's handler in the resolving request's.
 */
import type { Admission, Limits } from "./limiter";
import type { LeaseBook } from "./lease";

/** Asks the tenant's object for `need` requests, giving back `unused` leased tokens and wanting `want` more. */
export type Ask = (unused: number, want: number, need: number) => Promise<Admission>;

/** What became of a request. */
export type Decision =
  /** `leaseEndsAt`: the call this request made leased tokens to the isolate, until then. */
  | { outcome: "admitted"; limits: Limits; leaseEndsAt?: number }
  | { outcome: "refused"; admission: Exclude<Admission, { outcome: "allowed" }> };

/** A request without a leased token: in a line, then in a call, until decided. */
interface Member {
  call: Call | null;
  decision?: Decision;
  failed?: { error: unknown };
}

/** The call out for one line: the requests it is made for (the caller first), settled when they are decided. */
interface Call {
  members: Member[];
  done: Promise<void>;
}

interface Line {
  waiting: Member[];
  current: Call | null;
}

/** A request waited longer than a call may take: its caller went away without an answer. */
export class CallLost extends Error {}

/** An ask that took longer than its timeout; `late` is its answer, should it still come. */
export class AskTimedOut extends Error {
  constructor(readonly late: Promise<Admission>) {
    super("the tenant's object did not answer in time");
  }
}

/** Every token an answer took from the bucket for this isolate: its requests' and its lease's. */
const tokensOf = (a: Admission): number => (a.outcome === "allowed" ? (a.granted ?? 1) + (a.lease?.tokens ?? 0) : 0);

export class AdmissionQueue {
  private readonly lines = new Map<string, Line>();

  constructor(
    private readonly book: LeaseBook,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Admits or refuses a request for lease id `id`; rejects with the call's error when the object
   * cannot be reached. `maxWaitMs`: how long it waits on another request's call before giving up
   * on it (longer than a call's own timeout: only a caller that went away takes longer).
   */
  async admit(id: string, ask: Ask, maxWaitMs: number): Promise<Decision> {
    const leased = this.book.spend(id, this.now());
    if (leased) return { outcome: "admitted", limits: leased };
    let line = this.lines.get(id);
    if (!line) this.lines.set(id, (line = { waiting: [], current: null }));
    const me: Member = { call: null };
    line.waiting.push(me);
    for (;;) {
      if (me.decision) return me.decision;
      if (me.failed) throw me.failed.error;
      if (me.call === null) {
        const spent = this.book.spend(id, this.now());
        if (spent) {
          line.waiting.splice(line.waiting.indexOf(me), 1);
          this.tidy(id, line);
          return { outcome: "admitted", limits: spent };
        }
        if (line.current === null) return this.call(id, line, me, ask);
      }
      const awaited = (me.call ?? line.current)!;
      if (!(await this.settles(awaited.done, maxWaitMs))) this.abandon(line, awaited);
    }
  }

  /** Makes a call for everyone waiting in `line`, `me` first; `me`'s decision. */
  private async call(id: string, line: Line, me: Member, ask: Ask): Promise<Decision> {
    const members = [me, ...line.waiting.filter((m) => m !== me)];
    line.waiting = [];
    let settle!: () => void;
    const call: Call = { members, done: new Promise<void>((r) => (settle = r)) };
    for (const m of members) m.call = call;
    line.current = call;
    try {
      const { unused, want } = this.book.end(id, this.now());
      let admission: Admission;
      try {
        admission = await ask(unused, want, members.length);
      } catch (error) {
        for (const m of members) if (!m.decision) m.failed = { error };
        this.afterFailure(id, unused, error);
        throw error;
      }
      if (line.current === call) this.decide(id, line, call, admission);
      else {
        me.decision = this.ownShare(id, admission);
        // The other requests it granted gave up on it (CallLost): their tokens go back.
        if (admission.outcome === "allowed") this.book.owe(id, Math.min(admission.granted ?? 1, members.length) - 1);
      }
      return me.decision!;
    } finally {
      if (line.current === call) line.current = null;
      settle();
      this.tidy(id, line);
    }
  }

  /** Hands out what the object answered among the call's members; those it had no token for wait again, first in line. */
  private decide(id: string, line: Line, call: Call, admission: Admission): void {
    if (admission.outcome !== "allowed") {
      for (const m of call.members) m.decision = { outcome: "refused", admission: { ...admission } };
      return;
    }
    const held = this.book.keep(id, admission, this.now());
    const granted = Math.min(admission.granted ?? 1, call.members.length);
    call.members.forEach((m, i) => {
      if (i >= granted) return;
      // Tokens still to be spent, by this call's other requests and from the lease, are the caller's: count them as remaining.
      const limits = { limit: admission.limit, resetSeconds: admission.resetSeconds, remaining: admission.remaining + held + (granted - 1 - i) };
      m.decision = i === 0 && admission.lease ? { outcome: "admitted", limits, leaseEndsAt: this.now() + admission.lease.ttlMs } : { outcome: "admitted", limits };
    });
    const refused = call.members.slice(granted);
    for (const m of refused) m.call = null;
    line.waiting.unshift(...refused);
  }

  /**
   * Keeps count of tokens across a failed ask: those it carried back are owed again, unless it
   * merely timed out and its answer still comes (the object took them back); every token a late
   * answer took goes back, as no request is left to spend it.
   */
  private afterFailure(id: string, unused: number, error: unknown): void {
    if (!(error instanceof AskTimedOut)) return this.book.owe(id, unused);
    error.late.then(
      (admission) => this.book.owe(id, tokensOf(admission)),
      () => this.book.owe(id, unused),
    );
  }

  /** The caller's own decision from an answer that came after its call was given up on. */
  private ownShare(id: string, admission: Admission): Decision {
    if (admission.outcome !== "allowed") return { outcome: "refused", admission: { ...admission } };
    const held = this.book.keep(id, admission, this.now());
    return { outcome: "admitted", limits: { limit: admission.limit, resetSeconds: admission.resetSeconds, remaining: admission.remaining + held } };
  }

  /** Whether `done` settles within `maxWaitMs` (the timer is this request's own). */
  private async settles(done: Promise<void>, maxWaitMs: number): Promise<boolean> {
    let timer: number | null = null;
    const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), maxWaitMs)));
    try {
      return await Promise.race([done.then(() => true), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A call that took longer than any call may: its caller is gone. Its members fail; the line moves on. */
  private abandon(line: Line, call: Call): void {
    if (line.current !== call) return;
    line.current = null;
    const error = new CallLost("the call to the tenant's object was lost; retry");
    for (const m of call.members) if (!m.decision) m.failed = { error };
  }

  private tidy(id: string, line: Line): void {
    if (line.current === null && line.waiting.length === 0 && this.lines.get(id) === line) this.lines.delete(id);
  }
}
