/**
 * The kubelet's exec and attach over a WebSocket (channel.k8s.io v4/v5): each binary message
 * starts with its channel (0 stdin, 1 stdout, 2 stderr, 3 status, 4 resize; v5 adds
 * [255, channel] to close one), and the session ends with one metav1.Status on channel 3.
 * Bridges such a WebSocket to an InteractiveSession of the runtime.
 */
import { WebSocket, type RawData } from 'ws';
import { KubeletApiError } from './kubelet-errors.js';
import type { InteractiveSession, OutputListener, RuntimeContainer, SessionEnd, StreamSelection } from './runtime.js';

/** In order of preference. v5 adds the close message (stdin EOF). */
export const STREAM_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;
export type StreamProtocol = (typeof STREAM_PROTOCOLS)[number];

export const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4, close: 255 } as const;

/** Stop reading the process's output above this much unsent data; read again below the low mark. */
const HIGH_WATER_BYTES = 1 << 20;
const LOW_WATER_BYTES = 1 << 18;

/** metav1.Status as the kubelet writes it on the status channel. */
export interface ChannelStatus {
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: { causes: { reason?: string; message: string }[] };
  code?: number;
}

/** The protocol to answer with, from the client's Sec-WebSocket-Protocol offer. */
export function chooseStreamProtocol(offer: string | undefined): StreamProtocol | undefined {
  const offered = new Set((offer ?? '').split(',').map((p) => p.trim()));
  return STREAM_PROTOCOLS.find((protocol) => offered.has(protocol));
}

/** The kubelet's stream options (input/output/error/tty = "1"); a TTY has no separate stderr. */
export function parseStreamSelection(query: URLSearchParams): StreamSelection {
  const flag = (name: string): boolean => query.get(name) === '1' || query.get(name) === 'true';
  const tty = flag('tty');
  const selection = { stdin: flag('input'), stdout: flag('output'), stderr: flag('error') && !tty, tty };
  if (!selection.stdin && !selection.stdout && !selection.stderr) throw new KubeletApiError(400, 'you must specify at least 1 of stdin, stdout, stderr');
  return selection;
}

/**
 * The pod's running container of that name (app or init, never the sandbox), as the
 * kubelet's findContainer looks among running containers only.
 */
export function selectRunningContainer(containers: RuntimeContainer[], containerName: string): RuntimeContainer {
  const running = containers
    .filter((c) => !c.identity.sandbox && c.identity.container === containerName && c.state === 'running')
    .sort((a, b) => b.identity.attempt - a.identity.attempt)[0];
  if (!running) throw new KubeletApiError(500, `container not found ("${containerName}")`);
  return running;
}

export function successStatus(): ChannelStatus {
  return { metadata: {}, status: 'Success' };
}

/** What kubectl turns into its own exit code. */
export function exitCodeStatus(command: string[], exitCode: number): ChannelStatus {
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

/** apierrors.NewInternalError, as the kubelet reports a session that failed. */
export function internalErrorStatus(message: string): ChannelStatus {
  return {
    metadata: {},
    status: 'Failure',
    message: `Internal error occurred: ${message}`,
    reason: 'InternalError',
    details: { causes: [{ message }] },
    code: 500,
  };
}

export function execEndStatus(command: string[], end: SessionEnd): ChannelStatus {
  if (end.error !== undefined) return internalErrorStatus(`error executing command in container: ${end.error}`);
  if (end.exitCode !== undefined && end.exitCode !== 0) return exitCodeStatus(command, end.exitCode);
  return successStatus();
}

export interface ChannelSessionOptions {
  protocol: StreamProtocol;
  selection: StreamSelection;
  /** Opens the runtime's session; output goes to the listener. */
  open(onOutput: OutputListener): Promise<InteractiveSession>;
  /** The status that ends the session. */
  endStatus(end: SessionEnd): ChannelStatus;
  /** The status when the session could not be opened. */
  openErrorStatus(message: string): ChannelStatus;
}

/**
 * Runs one exec or attach over an accepted WebSocket until the process's stream ends (status
 * sent, WebSocket closed) or the client goes away (session left, process untouched).
 */
export async function runChannelSession(ws: WebSocket, options: ChannelSessionOptions): Promise<void> {
  const { protocol, selection } = options;
  let session: InteractiveSession | undefined;
  let clientGone = false;
  let paused = false;
  const early: Buffer[] = [];

  const handle = (message: Buffer, open: InteractiveSession): void => {
    if (message.length === 0) return;
    const payload = message.subarray(1);
    switch (message[0]) {
      case CHANNEL.stdin:
        if (selection.stdin && payload.length > 0) open.writeStdin(payload);
        break;
      case CHANNEL.resize: {
        const size = parseResize(payload);
        if (size) void open.resize(size.width, size.height);
        break;
      }
      case CHANNEL.close:
        if (protocol === 'v5.channel.k8s.io' && payload[0] === CHANNEL.stdin) open.closeStdin();
        break;
      default:
      // other channels carry nothing from the client
    }
  };
  ws.on('message', (data: RawData) => {
    const message = toBuffer(data);
    if (session) handle(message, session);
    else early.push(message);
  });
  const leave = (): void => {
    clientGone = true;
    session?.close();
  };
  ws.once('close', leave);
  ws.once('error', leave);

  const send = (channel: number, data: Buffer): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(Buffer.concat([Buffer.from([channel]), data]), () => {
      if (paused && ws.bufferedAmount < LOW_WATER_BYTES) {
        paused = false;
        session?.resume();
      }
    });
    if (!paused && ws.bufferedAmount > HIGH_WATER_BYTES) {
      paused = true;
      session?.pause();
    }
  };
  const finish = (status: ChannelStatus): void => {
    send(CHANNEL.status, Buffer.from(JSON.stringify(status)));
    if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  };

  let opened: InteractiveSession;
  try {
    opened = await options.open((stream, data) => send(selection.tty ? CHANNEL.stdout : stream, data));
  } catch (err) {
    finish(options.openErrorStatus((err as Error).message));
    return;
  }
  session = opened;
  if (clientGone) {
    opened.close();
    return;
  }
  if (paused) opened.pause();
  for (const message of early.splice(0)) handle(message, opened);
  const end = await opened.finished;
  if (!clientGone) finish(options.endStatus(end));
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** channel 4's JSON: {"Width":80,"Height":24}. */
function parseResize(payload: Buffer): { width: number; height: number } | undefined {
  try {
    const size = JSON.parse(payload.toString('utf8')) as { Width?: unknown; Height?: unknown };
    const width = Number(size.Width);
    const height = Number(size.Height);
    if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) return undefined;
    return { width, height };
  } catch {
    return undefined;
  }
}
