/** A progress bar on a terminal, written over itself; nothing when the stream is a file or a pipe. */
export function progressBar(stream: NodeJS.WriteStream) {
  const width = 24;
  let shown = false;
  return {
    /** Shows `done` out of `total`, followed by `label`. */
    show(done: number, total: number, label: string): void {
      if (!stream.isTTY || total === 0) return;
      const full = Math.round((done / total) * width);
      stream.write(`\r[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${label}\x1b[K`);
      shown = true;
    },
    /** Clears the bar, for a line of output or at the end. */
    clear(): void {
      if (shown) stream.write('\r\x1b[K');
      shown = false;
    },
  };
}
