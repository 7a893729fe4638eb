// Runs `python -m tbdap` as a child process and relays DAP messages over its stdio.
//
// VS Code could spawn the adapter itself (DebugAdapterExecutable), but then
// its stderr is lost to the user. Relaying it here puts the command line and
// stderr in the "tbdump" output channel, and turns an adapter that dies
// (or never starts) into error responses and a `terminated` event rather
// than a session that hangs.

import * as cp from 'child_process';
import * as fs from 'fs';
import * as vscode from 'vscode';
import { log, showError } from './output';

type Message = vscode.DebugProtocolMessage & {
    seq?: number;
    type?: string;
    command?: string;
    request_seq?: number;
};

const STARTUP_REQUESTS = new Set(['initialize', 'launch', 'attach']);
// How long a tbdap whose session ended may take to exit by itself before it is killed.
const EXIT_GRACE_MS = 3_000;
const HEADER_END = Buffer.from('\r\n\r\n');

/** Splits a byte stream into DAP messages (Content-Length framing, UTF-8 bodies). */
export class MessageReader {
    private buffer = Buffer.alloc(0);

    constructor(private readonly onMessage: (message: Message) => void,
                private readonly onBadInput: (text: string) => void) {}

    push(chunk: Buffer): void {
        this.buffer = Buffer.concat([this.buffer, chunk]);
        for (;;) {
            const headerEnd = this.buffer.indexOf(HEADER_END);
            if (headerEnd < 0) {
                return;
            }
            const header = this.buffer.subarray(0, headerEnd).toString('ascii');
            const match = /Content-Length:\s*(\d+)/i.exec(header);
            if (!match) {
                // Not the protocol (something printed on stdout): report it, skip the line.
                const lineEnd = this.buffer.indexOf('\n');
                this.onBadInput(this.buffer.subarray(0, lineEnd + 1).toString('utf8'));
                this.buffer = this.buffer.subarray(lineEnd + 1);
                continue;
            }
            const length = Number(match[1]);
            const bodyStart = headerEnd + HEADER_END.length;
            if (this.buffer.length < bodyStart + length) {
                return;
            }
            const body = this.buffer.subarray(bodyStart, bodyStart + length).toString('utf8');
            this.buffer = this.buffer.subarray(bodyStart + length);
            try {
                this.onMessage(JSON.parse(body) as Message);
            } catch {
                this.onBadInput(body);
            }
        }
    }
}

/** Frames one DAP message for the wire. */
export function frame(message: unknown): Buffer {
    const body = Buffer.from(JSON.stringify(message), 'utf8');
    return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

/** With TBDUMP_DAP_TRACE=FILE, every message both ways is appended to FILE (for debugging the extension). */
const TRACE_FILE = process.env.TBDUMP_DAP_TRACE;

function trace(direction: '->' | '<-', message: unknown): void {
    if (TRACE_FILE) {
        fs.appendFileSync(TRACE_FILE, `${new Date().toISOString()} ${direction} ${JSON.stringify(message)}\n`);
    }
}

/** Quotes one argument for the log line, so it can be pasted into a shell. */
function shellQuote(arg: string): string {
    return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The tbdap child process, seen by VS Code as an inline debug adapter. */
export class AdapterProcess implements vscode.DebugAdapter {
    private readonly sendMessage = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
    readonly onDidSendMessage = this.sendMessage.event;

    private readonly child: cp.ChildProcess;
    /** Requests sent to tbdap and not answered yet, by seq. */
    private readonly pending = new Map<number, string>();
    private stderrTail: string[] = [];
    private exited = false;
    private disposed = false;
    private nextSeq = 1_000_000;

    constructor(command: string, args: string[], cwd: string | undefined, env?: NodeJS.ProcessEnv) {
        log(`starting adapter: ${[command, ...args].map(shellQuote).join(' ')}${cwd ? `  (cwd ${cwd})` : ''}`);
        this.child = cp.spawn(command, args, {
            cwd,
            env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', ...env },
            stdio: ['pipe', 'pipe', 'pipe'],
            windowsHide: true,
        });
        const reader = new MessageReader(
            (message) => this.fromAdapter(message),
            (text) => log(`adapter stdout (not DAP): ${text.trimEnd()}`),
        );
        this.child.stdout!.on('data', (chunk: Buffer) => reader.push(chunk));
        this.child.stderr!.setEncoding('utf8');
        this.child.stderr!.on('data', (text: string) => this.fromStderr(text));
        this.child.stdin!.on('error', (error) => log(`adapter stdin: ${error.message}`));
        this.child.on('error', (error) => this.ended(`could not start ${command}: ${error.message}`));
        this.child.on('exit', (code, signal) =>
            this.ended(signal ? `killed by ${signal}` : `exited with code ${code}`, code === 0));
    }

    handleMessage(message: vscode.DebugProtocolMessage): void {
        const msg = message as Message;
        if (this.exited) {
            if (msg.type === 'request') {
                this.failRequest(msg.seq ?? 0, msg.command ?? '', 'The tbdump debug adapter is not running (see the "tbdump" output).');
            }
            return;
        }
        if (msg.type === 'request' && typeof msg.seq === 'number') {
            this.pending.set(msg.seq, msg.command ?? '');
        }
        trace('->', message);
        this.child.stdin!.write(frame(message));
    }

    dispose(): void {
        this.disposed = true;
        if (!this.exited) {
            // VS Code disposes the adapter as soon as `disconnect` is answered (at once on Restart),
            // while tbdap is ending by itself: its stdin closed ends it too (even in a console
            // evaluation), and only one still there after EXIT_GRACE_MS is killed.
            this.child.stdin!.end();
            const kill = setTimeout(() => this.child.kill(), EXIT_GRACE_MS);
            this.child.once('exit', () => clearTimeout(kill));
        }
        this.sendMessage.dispose();
    }

    private fromAdapter(message: Message): void {
        trace('<-', message);
        if (message.type === 'response' && typeof message.request_seq === 'number') {
            this.pending.delete(message.request_seq);
        }
        this.sendMessage.fire(message);
    }

    private fromStderr(text: string): void {
        for (const line of text.split(/\r?\n/)) {
            if (line) {
                log(`adapter stderr: ${line}`);
                this.stderrTail.push(line);
            }
        }
        this.stderrTail = this.stderrTail.slice(-20);
    }

    /** The adapter is gone: answer what it left unanswered and end the session. */
    private ended(how: string, clean = false): void {
        if (this.exited) {
            return;
        }
        this.exited = true;
        log(`adapter ${how}`);
        if (this.disposed) {
            return;
        }
        const reason = this.stderrTail.length ? this.stderrTail[this.stderrTail.length - 1] : how;
        const message = `The tbdump debug adapter ${how}: ${reason}`;
        const unanswered = [...this.pending.entries()];
        this.pending.clear();
        for (const [seq, command] of unanswered) {
            this.failRequest(seq, command, message);
        }
        // VS Code shows a failed initialize/launch itself; anything else is said here.
        const shownByVsCode = unanswered.some(([, command]) => STARTUP_REQUESTS.has(command));
        if (!clean && !shownByVsCode) {
            void showError(message);
        }
        this.sendMessage.fire({ seq: this.nextSeq++, type: 'event', event: 'terminated' } as vscode.DebugProtocolMessage);
    }

    private failRequest(requestSeq: number, command: string, message: string): void {
        this.sendMessage.fire({
            seq: this.nextSeq++,
            type: 'response',
            request_seq: requestSeq,
            success: false,
            command,
            message,
        } as vscode.DebugProtocolMessage);
    }
}
