import { type ChildProcess, spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';

/**
 * A TCP listener on loopback that answers late, for real: a child process listens with a backlog
 * of 1 and does not accept (its event loop is blocked reading stdin), and two connections fill
 * its queue. The kernel then drops a new connection's SYN; the client retransmits it after its
 * initial RTO (1 s on Linux), by when `release()` has let the child accept. So a connect takes
 * about one second, from the kernel's own timers, not from a sleep in the test.
 */
export async function slowListener(): Promise<{ port: number; release(): void; close(): void }> {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '-e',
      `const s = require('node:net').createServer((c) => c.on('error', () => {}));
       s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
         process.stdout.write(s.address().port + '\\n');
         require('node:fs').readSync(0, Buffer.alloc(1)); // blocks: nothing is accepted until released
       });`,
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolve) =>
    child.stdout?.once('data', (d) => resolve(Number(String(d).trim()))),
  );
  const fillers: Socket[] = [];
  for (let i = 0; i < 2; i += 1) {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    fillers.push(socket);
  }
  return {
    port,
    release: () => child.stdin?.write('x'),
    close: () => {
      for (const f of fillers) f.destroy();
      child.kill();
    },
  };
}
