// A one-line progress bar on stderr. On a terminal it is redrawn in place a few
// times a second; into a file or pipe it prints a plain line every few seconds instead.

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private readonly tty = process.stderr.isTTY === true;
  private lastLine = 0;
  private currentPhase = 'starting';
  private phaseStarted = Date.now();
  /** When the count of `done` began: the start, or the last counted phase (countPhase). */
  private countStarted = Date.now();
  /** Seconds spent in each phase so far, in the order the phases came. */
  private readonly phaseSeconds = new Map<string, number>();
  done = 0;

  constructor(private readonly total: number) {}

  start(): void {
    this.countStarted = Date.now();
    this.timer = setInterval(() => this.draw(), 250);
    this.timer.unref();
  }

  get phase(): string {
    return this.currentPhase;
  }

  set phase(next: string) {
    const now = Date.now();
    this.phaseSeconds.set(
      this.currentPhase,
      (this.phaseSeconds.get(this.currentPhase) ?? 0) + (now - this.phaseStarted) / 1000,
    );
    this.currentPhase = next;
    this.phaseStarted = now;
  }

  /**
   * Starts a phase that counts the events again, from 0 to the same total, with its own rate
   * and ETA: a second pass over every event (the derived columns) shows how far it is.
   */
  countPhase(next: string): void {
    this.phase = next;
    this.done = 0;
    this.countStarted = Date.now();
  }

  /** Where the time went, for example `loading 26.1 s, rendering 40.2 s`. */
  phaseSummary(): string {
    return [...this.phaseSeconds].map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s`).join(', ');
  }

  elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  private draw(): void {
    if (!this.tty && Date.now() - this.lastLine < 5000) return;
    this.lastLine = Date.now();
    const seconds = this.elapsedSeconds();
    const share = this.total > 0 ? Math.min(1, this.done / this.total) : 1;
    const width = 30;
    const filled = Math.round(share * width);
    const counting = (Date.now() - this.countStarted) / 1000;
    const rate = counting > 0 ? this.done / counting : 0;
    const eta = rate > 0 && this.done < this.total ? `${Math.ceil((this.total - this.done) / rate)}s` : '-';
    const line =
      `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done.toLocaleString('en-US')}/${this.total.toLocaleString('en-US')} events ` +
      `${(share * 100).toFixed(1)}% ${Math.round(rate).toLocaleString('en-US')}/s ETA ${eta} elapsed ${seconds.toFixed(0)}s rss ${Math.round(process.memoryUsage.rss() / 1048576)}MB ${this.phase}`;
    process.stderr.write(this.tty ? `\r${line}\u001b[K` : `${line}\n`);
  }

  /** Draws once more, then leaves the bar on its own line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.lastLine = 0;
    this.draw();
    if (this.tty) process.stderr.write('\n');
  }

  /** A message on its own line, without garbling the bar. */
  log(message: string): void {
    process.stderr.write(this.tty ? `\r\u001b[K${message}\n` : `${message}\n`);
  }
}
