/**
 * A fake node agent for the API server's stream tests: the kubelet API of the contract
 * (GET /containerLogs/…, WebSocket v5 /exec/… and /attach/…), over plain HTTP or TLS.
 * exec runs the command for real on this machine (so exit codes, stdin and `kubectl cp`'s
 * tar behave as in a container); attach talks to a `cat`. Everything asked is recorded.
 */
import { spawn } from 'node:child_process';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

export interface AgentRequest {
  kind: 'containerLogs' | 'exec' | 'attach';
  namespace: string;
  pod: string;
  container: string;
  query: URLSearchParams;
  /** The client certificate's subject, when TLS. */
  clientSubject?: string;
}

export type LogsHandler = (request: AgentRequest, res: ServerResponse) => void;

export interface FakeAgent {
  port: number;
  requests: AgentRequest[];
  /** Resize messages received on channel 4, as text. */
  resizes: string[];
  /** How container logs are answered; default: two lines. */
  logs: LogsHandler;
  /** Set to refuse exec/attach with this code and plain-text body. */
  refuseStreams?: { code: number; body: string };
  /** Working directory of exec'd commands. */
  cwd: string;
  close(): Promise<void>;
}

export async function startFakeAgent(options: { tls?: { ca: string; cert: string; key: string }; cwd?: string } = {}): Promise<FakeAgent> {
  const agent: FakeAgent = {
    port: 0,
    requests: [],
    resizes: [],
    cwd: options.cwd ?? process.cwd(),
    logs: (_request, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('line 1\nline 2\n');
    },
    close: async () => undefined,
  };

  const record = (req: IncomingMessage): AgentRequest | undefined => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const [kind, namespace, pod, container] = url.pathname.split('/').filter((s) => s !== '').map(decodeURIComponent);
    if ((kind !== 'containerLogs' && kind !== 'exec' && kind !== 'attach') || !namespace || !pod || !container) return undefined;
    const socket = req.socket as import('node:tls').TLSSocket;
    const subject = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate().subject : undefined;
    const request: AgentRequest = {
      kind,
      namespace,
      pod,
      container,
      query: url.searchParams,
      ...(subject ? { clientSubject: `CN=${String(subject.CN)},O=${String(subject.O)}` } : {}),
    };
    agent.requests.push(request);
    return request;
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const request = record(req);
    if (!request || request.kind !== 'containerLogs') {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    agent.logs(request, res);
  };

  const server = options.tls
    ? https.createServer({ ...options.tls, requestCert: true, rejectUnauthorized: true }, onRequest)
    : http.createServer(onRequest);
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false) });
  server.on('upgrade', (req: IncomingMessage, socket, head) => {
    const request = record(req);
    if (!request || request.kind === 'containerLogs') {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (agent.refuseStreams) {
      const body = agent.refuseStreams.body;
      socket.end(`HTTP/1.1 ${agent.refuseStreams.code} Refused\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => runStream(ws, request, agent));
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  agent.port = (server.address() as AddressInfo).port;
  agent.close = () =>
    new Promise<void>((resolve) => {
      for (const client of wss.clients) client.terminate();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return agent;
}

/** One exec or attach session in the v5 channel protocol. */
function runStream(ws: WebSocket, request: AgentRequest, agent: FakeAgent): void {
  const query = request.query;
  const command = request.kind === 'exec' ? query.getAll('command') : ['cat'];
  const tty = query.get('tty') === '1';
  const child = spawn(command[0]!, command.slice(1), { cwd: agent.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const send = (channel: number, data: Buffer | string) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.of(channel), Buffer.from(data)]));
  };
  if (request.kind === 'attach') send(1, 'attached\n');
  child.stdout.on('data', (chunk: Buffer) => send(1, chunk));
  // v5 lets the agent say a channel is done: [255, 1].
  child.stdout.on('end', () => send(255, Buffer.of(1)));
  // With a terminal there is no separate stderr: it goes to the same stream.
  child.stderr.on('data', (chunk: Buffer) => send(tty ? 1 : 2, chunk));
  child.stdin.on('error', () => undefined);
  if (query.get('input') !== '1') child.stdin.end();

  ws.on('message', (data: RawData) => {
    const message = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
    const channel = message[0];
    if (channel === 0) child.stdin.write(message.subarray(1));
    else if (channel === 4) agent.resizes.push(message.subarray(1).toString('utf8'));
    else if (channel === 255 && message[1] === 0) child.stdin.end();
  });
  ws.on('close', () => {
    if (child.exitCode === null) child.kill();
  });
  child.on('error', (err) => {
    send(3, JSON.stringify({ metadata: {}, status: 'Failure', message: `failed to run ${command[0]}: ${err.message}` }));
    ws.close(1000);
  });
  child.on('close', (code) => {
    const status =
      code === 0
        ? { metadata: {}, status: 'Success' }
        : {
            metadata: {},
            status: 'Failure',
            message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${code}`,
            reason: 'NonZeroExitCode',
            details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
          };
    send(3, JSON.stringify(status));
    ws.close(1000);
  });
}
